import test from 'ava';
import { createNodeManager, optionsFromEnv, ValidationError } from '@nodes/core';
import { FakeEngine } from '../helpers/fake-engine.js';

test('options come from the same NODES_* variables as the server, numbers converted, empty ones unset', (t) => {
  t.deepEqual(optionsFromEnv({ NODES_NAMESPACE: 'lab', NODES_ENGINE_TIMEOUT_MS: '2500', NODES_PULL_POLICY: 'never', NODES_DEFAULT_IMAGE: '', OTHER: 'x' }), {
    namespace: 'lab',
    engineTimeoutMs: 2500,
    pullPolicy: 'never',
  });
});

test.serial('createNodeManager reads NODES_NAMESPACE when no namespace is given; a given one wins', (t) => {
  const before = process.env.NODES_NAMESPACE;
  process.env.NODES_NAMESPACE = 'from-env';
  t.teardown(() => (before === undefined ? delete process.env.NODES_NAMESPACE : (process.env.NODES_NAMESPACE = before)));
  t.is(createNodeManager({}, { engine: new FakeEngine() }).namespace, 'from-env');
  t.is(createNodeManager({ namespace: 'given' }, { engine: new FakeEngine() }).namespace, 'given');
  process.env.NODES_NAMESPACE = 'Not Valid';
  t.throws(() => createNodeManager({}, { engine: new FakeEngine() }), { instanceOf: ValidationError, message: /NODES_\* environment.*namespace/ });
});
