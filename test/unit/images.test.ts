import test from 'ava';
import { imageAllowed, repositoryOf } from '@nodes/core';

test('an image reference resolves to its registry and repository as the engine resolves it', (t) => {
  t.is(repositoryOf('busybox:latest'), 'docker.io/library/busybox');
  t.is(repositoryOf('busybox'), 'docker.io/library/busybox');
  t.is(repositoryOf('acme/app:1.0'), 'docker.io/acme/app');
  t.is(repositoryOf('ghcr.io/acme/app@sha256:0123'), 'ghcr.io/acme/app');
  t.is(repositoryOf('127.0.0.1:18299/probe/x'), '127.0.0.1:18299/probe/x');
  t.is(repositoryOf('localhost/x:tag'), 'localhost/x');
  t.is(repositoryOf('registry.local:5000/team/app:2'), 'registry.local:5000/team/app');
});

test('the allowlist matches registries and repository prefixes on whole path components', (t) => {
  t.true(imageAllowed('busybox:latest', ['docker.io']));
  t.true(imageAllowed('busybox:latest', ['docker.io/library/busybox']));
  t.false(imageAllowed('busybox:latest', ['docker.io/library/busy']));
  t.true(imageAllowed('ghcr.io/acme/app:1', ['ghcr.io/acme/']));
  t.false(imageAllowed('ghcr.io/acme-evil/app:1', ['ghcr.io/acme']));
  t.false(imageAllowed('127.0.0.1:18299/probe/x', ['docker.io', 'ghcr.io']));
  t.false(imageAllowed('docker.io.evil.example/x', ['docker.io']));
  t.false(imageAllowed('localhost:5000/x', ['localhost']));
});
