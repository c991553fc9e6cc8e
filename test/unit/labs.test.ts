import test from 'ava';
import { bindingsOf, freeSubnet, parseListing } from '@nodes/core/internal/labs';

test('a network subnet is the first of the pool that overlaps no network of the engine', (t) => {
  t.is(freeSubnet('10.213.0.0/16', 24, []), '10.213.0.0/24');
  t.is(freeSubnet('10.213.0.0/16', 24, ['10.213.0.0/24', '172.17.0.0/16']), '10.213.1.0/24');
  t.is(freeSubnet('10.213.0.0/16', 24, ['10.213.0.0/23']), '10.213.2.0/24', 'a wider taken subnet covers several');
  t.is(freeSubnet('10.213.0.0/16', 24, ['10.0.0.0/8']), undefined, 'a taken supernet leaves nothing');
  t.is(freeSubnet('10.213.0.0/30', 24, []), undefined, 'a pool smaller than one subnet');
  t.is(freeSubnet('10.213.0.0/16', 24, ['fd00::/64', 'not a cidr']), '10.213.0.0/24', 'IPv6 and junk are ignored');
  const full = Array.from({ length: 256 }, (_, i) => `10.213.${i}.0/24`);
  t.is(freeSubnet('10.213.0.0/16', 24, full), undefined);
});

test('published ports bind to the operator\'s address, at the spec\'s port, else the kept one, else any', (t) => {
  t.deepEqual(
    bindingsOf(
      [
        { containerPort: 80, protocol: 'tcp' },
        { containerPort: 53, protocol: 'udp', hostPort: 5353 },
        { containerPort: 8080, protocol: 'tcp' },
      ],
      '127.0.0.1',
      { '80/tcp': 32768, '53/udp': 1 },
    ),
    [
      { containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 32768 },
      { containerPort: 53, protocol: 'udp', hostIp: '127.0.0.1', hostPort: 5353 },
      { containerPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 0 },
    ],
  );
});

test('a directory listing keeps names with spaces and newlines, types from mode bits, and says when it stopped', (t) => {
  const out = Buffer.from('81a4 5 1700000000\0a file\0' + '41ed 4096 1700000001\0dir\nwith newline\0' + 'a1ff 3 1700000002\0link\0' + 'more\0');
  const { entries, truncated } = parseListing(out);
  t.true(truncated);
  t.deepEqual(
    entries.map((e) => [e.name, e.type, e.sizeBytes, e.mode.toString(8), e.modifiedAt]),
    [
      ['a file', 'file', 5, '644', '2023-11-14T22:13:20.000Z'],
      ['dir\nwith newline', 'directory', 4096, '755', '2023-11-14T22:13:21.000Z'],
      ['link', 'symlink', 3, '777', '2023-11-14T22:13:22.000Z'],
    ],
  );
  t.deepEqual(parseListing(Buffer.alloc(0)), { entries: [], truncated: false });
});
