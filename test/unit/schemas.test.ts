import test from 'ava';
import { FilePathSchema, NodeSpecSchema, ProcessConfigSchema, ValidationError, parseInput, SignalSchema } from '@nodes/core';

test('a node spec may be empty, as the spec\'s create_node has no args', (t) => {
  t.deepEqual(parseInput(NodeSpecSchema, {}, 'node spec'), {});
});

test('a node spec refuses reserved label keys and unknown fields', (t) => {
  t.throws(() => parseInput(NodeSpecSchema, { labels: { 'io.nodes.node-id': 'x' } }, 'node spec'), {
    instanceOf: ValidationError,
    message: /labels\.io\.nodes\.node-id: label key "io\.nodes\.node-id" is reserved/,
  });
  t.throws(() => parseInput(NodeSpecSchema, { imag: 'x' }, 'node spec'), { instanceOf: ValidationError, message: /imag/ });
});

test('a process config defaults its path to / and its env to {}', (t) => {
  const config = parseInput(ProcessConfigSchema, { command: 'true' }, 'process config');
  t.is(config.path, '/');
  t.deepEqual(config.env, {});
  t.is(config.name, 'process');
});

test('a process config refuses a relative working directory and bad env names', (t) => {
  t.throws(() => parseInput(ProcessConfigSchema, { command: 'true', path: 'tmp' }, 'process config'), {
    instanceOf: ValidationError,
    message: /path: must be an absolute path/,
  });
  t.throws(() => parseInput(ProcessConfigSchema, { command: 'true', env: { '1A': 'x' } }, 'process config'), {
    instanceOf: ValidationError,
    message: /env/,
  });
});

test('signals are accepted with or without the SIG prefix', (t) => {
  t.is(SignalSchema.parse('sigkill'), 'KILL');
  t.is(SignalSchema.parse('TERM'), 'TERM');
  t.false(SignalSchema.safeParse('SIGFOO').success);
});

test('an image must be a reference and a command at most 64 KiB, refused before the engine sees them', (t) => {
  t.throws(() => parseInput(NodeSpecSchema, { image: 'BAD IMAGE' }, 'node spec'), { instanceOf: ValidationError, message: /image: must be an image reference/ });
  t.throws(() => parseInput(ProcessConfigSchema, { command: 'x'.repeat(65 * 1024) }, 'process config'), {
    instanceOf: ValidationError,
    message: /command: must be at most 65536 bytes/,
  });
  t.throws(() => parseInput(ProcessConfigSchema, { command: 5 }, 'process config'), {
    instanceOf: ValidationError,
    message: /command: must be a shell command line \(string\) or an argv array of strings/,
  });
});

test('a file path with a part over 255 bytes is the caller\'s mistake, before the engine is asked', (t) => {
  t.throws(() => parseInput(FilePathSchema, `/tmp/${'a'.repeat(256)}`, 'file path'), { instanceOf: ValidationError, message: /no part over 255 bytes/ });
  t.throws(() => parseInput(FilePathSchema, `/${'é'.repeat(128)}/x`, 'file path'), { instanceOf: ValidationError, message: /no part over 255 bytes/ });
  t.is(parseInput(FilePathSchema, `/tmp/${'a'.repeat(255)}`, 'file path'), `/tmp/${'a'.repeat(255)}`);
});
