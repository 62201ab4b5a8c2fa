#!/usr/bin/env python3
"""Where a TCP sender under loss sat idle, from a capture.

    go test ./gonetif/stack -run TestLossRecovery -v -loss.pcap=/tmp/l
    bench/loss_gaps.py /tmp/l-5%.pcap [--gap-ms 4] [--show 3]

The capture is the TAP's host side (what the kernel sent and received).
For each sender (the app's connections go to odd ports, the kernel's to
even ones) it counts data frames, ACK frames per data frame and idle gaps
longer than --gap-ms while data was outstanding, and sorts each gap by the
last ACK the receiver sent before it:

  flight ACKed   the ACK covered everything sent: when the loss layer drops
                 it on its way in, nothing is left to clock the sender
  SACK hole      the ACK still showed a hole (a lost retransmission, or one
                 not sent because the window looked full)
  partial ACK    a cumulative ACK short of the data sent, no SACK

Needs tshark.
"""
import argparse
import collections
import subprocess
import sys


def frames(pcap):
    """Yields (time, src port, dst port, seq, len, ack, has SACK) per TCP frame."""
    out = subprocess.run(
        ["tshark", "-r", pcap, "-T", "fields", "-o", "tcp.relative_sequence_numbers:TRUE",
         "-e", "frame.time_relative", "-e", "tcp.srcport", "-e", "tcp.dstport",
         "-e", "tcp.seq", "-e", "tcp.len", "-e", "tcp.ack", "-e", "tcp.options.sack_le"],
        capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 7 or not f[1]:
            continue
        yield float(f[0]), int(f[1]), int(f[2]), int(f[3] or 0), int(f[4] or 0), int(f[5] or 0), bool(f[6])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pcap")
    ap.add_argument("--gap-ms", type=float, default=4)
    ap.add_argument("--show", type=int, default=0, help="print the frames before the first N gaps")
    a = ap.parse_args()
    gap = a.gap_ms / 1000

    # One flow per receiver port; the data sender is the side sending payload.
    flows = collections.defaultdict(list)
    for fr in frames(a.pcap):
        t, sp, dp = fr[0], fr[1], fr[2]
        key = dp if dp < 10000 else sp  # the test's listening ports are < 10000
        flows[key].append((fr, sp != key))  # True: sent towards the listener
    stats = {}
    shown = 0
    for port, evs in sorted(flows.items()):
        who = "app" if port % 2 else "kernel"
        data = [e for e, fwd in evs if fwd and e[4] > 0]
        acks = [e for e, fwd in evs if not fwd]
        if len(data) < 100:
            continue  # a refused connect, not a transfer
        s = stats.setdefault(who, collections.Counter())
        s["transfers"] += 1
        s["data frames"] += len(data)
        s["ACK frames"] += len(acks)
        hi, last_ack, prev, recent = 0, None, None, collections.deque(maxlen=12)
        for e, fwd in evs:
            recent.append((e, fwd))
            if not fwd:
                last_ack = e
                continue
            if e[4] == 0:
                continue
            if prev is not None and e[0] - prev > gap and hi > 0:
                if last_ack is not None and last_ack[5] >= hi:
                    kind = "flight ACKed"
                elif last_ack is not None and last_ack[6]:
                    kind = "SACK hole"
                else:
                    kind = "partial ACK"
                s["gaps: " + kind] += 1
                s["idle ms: " + kind] += round((e[0] - prev) * 1000)
                if shown < a.show and who == "app":
                    shown += 1
                    print(f"--- {who} port {port}: {1000 * (e[0] - prev):.1f} ms idle ({kind})")
                    for r, rf in recent:
                        what = f"data seq {r[3]} len {r[4]}" if rf else f"ack {r[5]}{' +SACK' if r[6] else ''}"
                        print(f"    {r[0]:.4f} {'->' if rf else '<-'} {what}")
            prev = e[0]
            hi = max(hi, e[3] + e[4])
    for who, s in stats.items():
        print(f"{who} sender: {s['transfers']} transfers, {s['data frames']} data frames, "
              f"{s['ACK frames'] / max(s['data frames'], 1):.2f} ACK frames per data frame")
        for k in ("flight ACKed", "SACK hole", "partial ACK"):
            if s["gaps: " + k]:
                print(f"  {s['gaps: ' + k]:4d} gaps > {a.gap_ms:g} ms, {s['idle ms: ' + k]:5d} ms idle: {k}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
