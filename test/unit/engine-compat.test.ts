import test from 'ava';
import { ConflictError, EngineError } from '@nodes/core';
import { containerStateOf } from '@nodes/core/internal/container-states';
import { mapDockerError, statusOf } from '@nodes/core/internal/docker-errors';

/** An error as docker-modem makes it from an engine's answer. */
const answer = (statusCode: number, message: string) => Object.assign(new Error(`(HTTP code ${statusCode}) ${message}`), { statusCode, json: { message } });

test('Podman\'s container states read as Docker\'s words', (t) => {
  t.is(containerStateOf('running'), 'running');
  t.is(containerStateOf('exited'), 'exited');
  t.is(containerStateOf('stopping'), 'running');
  t.is(containerStateOf('stopped'), 'exited');
  t.is(containerStateOf('configured'), 'created');
  t.is(containerStateOf('initialized'), 'created');
  t.is(containerStateOf('no-such-state'), 'dead');
  t.is(containerStateOf(undefined), 'dead');
});

test('a name already in use is a conflict on Docker (409) and on Podman (500)', (t) => {
  const podman = answer(
    500,
    'container create: creating container storage: the container name "nodes-x-a" is already in use by 0e14853b83cd. You have to remove that container to be able to reuse that name: that name is already in use',
  );
  t.true(mapDockerError(podman, 'unix:///run/podman/podman.sock', 'create container "nodes-x-a"') instanceof ConflictError);
  t.true(mapDockerError(answer(409, 'Conflict. The container name "/nodes-x-a" is already in use'), 'e', 'create') instanceof ConflictError);
  t.true(mapDockerError(answer(500, 'network name nodes-x already used: network already exists'), 'e', 'create network') instanceof ConflictError);
  const other = mapDockerError(answer(500, 'runc: something broke'), 'e', 'start container');
  t.false(other instanceof ConflictError);
  t.true(other instanceof EngineError);
});

test('Podman\'s 500 for a container that is gone reads as 404', (t) => {
  t.is(statusOf(answer(500, 'container 7096c6dc67c7 does not exist in database: no such container')), 404);
  t.is(statusOf(answer(404, 'No such container: 7096c6dc67c7')), 404);
  t.is(statusOf(answer(500, 'runc: something broke')), 500);
  t.is(statusOf(new Error('socket hang up')), undefined);
});
