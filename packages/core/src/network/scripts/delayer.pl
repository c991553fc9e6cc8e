# Delays a node's outgoing packets in user space: it binds NFQUEUE queue 0 in the node's network namespace
# (nsenter'ed by link.sh), where the chain NODES-LINK queues every packet not on lo, and accepts each packet
# again after <delay_ms> +- uniform <jitter_ms>. For kernels without sch_netem. args: delay_ms jitter_ms node_pid.
# Exits when the node's process is gone. Netlink: nfnetlink_queue (linux/netfilter/nfnetlink_queue.h).
use strict;
use warnings;

# perl-base has no Time::HiRes: the clock is /proc/uptime (10 ms steps), and each delay gets one step more so
# that no packet leaves before its delay.
my $STEP = 0.01;
sub now {
  open(my $f, '<', '/proc/uptime') or die "/proc/uptime: $!";
  my ($up) = split ' ', scalar <$f>;
  return $up;
}

my ($delay_ms, $jitter_ms, $pid) = @ARGV;
$0 = "nodes-delayer $pid";
socket(my $sock, 16, 3, 12) or die "netlink socket: $!";    # AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER
bind($sock, pack('S S L L', 16, 0, 0, 0)) or die "netlink bind: $!";
my $seq = 0;

sub attr {
  my ($type, $data) = @_;
  my $len = 4 + length $data;
  return pack('S S', $len, $type) . $data . ("\0" x ((4 - $len % 4) % 4));
}

# An nfnetlink message of the queue subsystem (3): nlmsghdr, nfgenmsg (family, version 0, queue 0), attributes.
sub message {
  my ($type, $family, $attrs) = @_;
  my $body = pack('C C n', $family, 0, 0) . $attrs;
  return pack('L S S L L', 16 + length $body, (3 << 8) | $type, 1, ++$seq, 0) . $body;
}

send($sock, message(2, 0, attr(1, pack('C C n', 1, 0, 2))), 0) or die "bind queue: $!";    # CONFIG: CMD_BIND, AF_INET
send($sock, message(2, 0, attr(2, pack('N C', 0, 1))), 0) or die "copy mode: $!";        # CONFIG: PARAMS, COPY_META

my @due;    # [when, packet id], by when
my $check = now() + 1;
while (1) {
  my $now = now();
  while (@due && $due[0][0] <= $now) {
    my $d = shift @due;
    send($sock, message(1, 0, attr(2, pack('N N', 1, $d->[1]))), 0);    # VERDICT: NF_ACCEPT
  }
  if ($now >= $check) {
    exit 0 unless -e "/proc/$pid";
    $check = $now + 1;
  }
  my $wait = @due ? $due[0][0] - $now : 1;
  $wait = 0 if $wait < 0;
  $wait = 1 if $wait > 1;
  my $rin = '';
  vec($rin, fileno($sock), 1) = 1;
  next unless select(my $rout = $rin, undef, undef, $wait);
  my $buf;
  defined(recv($sock, $buf, 65536, 0)) or next;
  my $off = 0;
  while ($off + 20 <= length $buf) {
    my ($len, $type) = unpack('L S', substr($buf, $off, 6));
    last if $len < 16;
    if ($type == (3 << 8)) {    # PACKET: find NFQA_PACKET_HDR (1) for the packet id
      my $a = $off + 20;
      while ($a + 8 <= $off + $len) {
        my ($alen, $atype) = unpack('S S', substr($buf, $a, 4));
        last if $alen < 4;
        if (($atype & 0x7fff) == 1) {
          my $id = unpack('N', substr($buf, $a + 4, 4));
          my $at = now() + $STEP + ($delay_ms + ($jitter_ms ? (rand(2) - 1) * $jitter_ms : 0)) / 1000;
          my $i = @due;
          $i-- while $i > 0 && $due[$i - 1][0] > $at;
          splice(@due, $i, 0, [$at, $id]);
          last;
        }
        $a += ($alen + 3) & ~3;
      }
    }
    $off += ($len + 3) & ~3;
  }
}
