// Package gvisorfix patches a few lines of the pinned gVisor at build
// time, through the go command's -overlay flag, instead of forking or
// vendoring it. Edits lists the changes, each with why it is needed.
//
// The go command refuses overlays of files in its module cache, so
// Generate writes, into a build directory: a symlink to the pinned gVisor
// in the module cache, a copy of go.mod that replaces gVisor with that
// symlink (same files, a path outside the cache), the patched files and
// an overlay putting them in place. Builds pass both files: Flags gives
// "-modfile=DIR/go.mod -overlay=DIR/overlay.json" (scripts/test exports it
// in GOFLAGS, CMake passes it to go build). Patch fails when the text an
// edit replaces is not found exactly once, so a gVisor update cannot drop
// a fix silently. Nothing of gVisor is copied: the build reads the module
// cache.
package gvisorfix

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// Module is the module patched.
const Module = "gvisor.dev/gvisor"

// Edit replaces Anchor, which must occur exactly once in File (relative
// to the module's root), by Replacement. Replacements keep the line count,
// so line numbers in panics still match gVisor's source.
type Edit struct {
	File        string
	Anchor      string
	Replacement string
	Why         string
}

// Edits are applied in order; several may edit one file. The first two
// fix bugs; the rest cut memory per connection (memoryEdits).
var Edits = append([]Edit{
	{
		File: "pkg/tcpip/transport/tcp/snd.go",
		// The branch of postXmit that runs when data is unacknowledged
		// and neither timer is armed; its guard of the resend timer is
		// replaced.
		Anchor:      "} else if !s.resendTimer.enabled() {\n\t\t\ts.probeTimer.disable()\n\t\t\tif s.Outstanding > 0 {\n",
		Replacement: "} else if !s.resendTimer.enabled() {\n\t\t\ts.probeTimer.disable()\n\t\t\tif s.SndUna != s.SndNxt { // gonetif overlay: a timer whenever data is unacknowledged\n",
		Why: "after a retransmission timeout the sender resets its count of segments in flight to 0, and " +
			"later ACKs of data sent before the timeout take the count below the truth (clamped at 0); when a " +
			"tail loss probe then fires, the resend timer is re-armed only if that count is above 0, so with " +
			"data unacknowledged the sender can be left with no timer and never send again. The fix arms it " +
			"whenever data is unacknowledged (RFC 6298 5.1), as Linux does.",
	},
	{
		File: "pkg/tcpip/transport/tcp/connect.go",
		// The resend of a SYN or SYN-ACK in retransmitHandlerLocked; the
		// refresh goes on the line of the call.
		Anchor:      "\t\te.sendSynTCP(e.route, tcpFields{\n\t\t\tid:        e.TransportEndpointInfo.ID,\n",
		Replacement: "\t\th.sendSYNOpts.TSVal = e.tsValNow(); e.sendSynTCP(e.route, tcpFields{ // gonetif overlay: a fresh TSval on each resent SYN\n\t\t\tid:        e.TransportEndpointInfo.ID,\n",
		Why: "a retransmitted SYN or SYN-ACK carried the first one's cached TSval; the peer echoes it and the " +
			"connection's first RTT sample spans the whole SYN back-off (about 1 s), leaving an RTO of about " +
			"3 s that shrinks only slowly, so any early timeout costs seconds. Linux stamps each retransmitted " +
			"SYN afresh; so does the fix.",
	},
	{
		File: "pkg/tcpip/transport/tcp/rack.go",
		// shouldSchedulePTO's last two conditions: not in SACK
		// recovery, nothing SACKed.
		Anchor:      "\t\t(s.state != tcpip.RTORecovery && s.state != tcpip.SACKRecovery) &&\n\t\t// The connection has no SACKed sequences in the SACK scoreboard.\n\t\ts.ep.scoreboard.Sacked() == 0\n",
		Replacement: "\t\ts.state != tcpip.RTORecovery // gonetif overlay: a loss probe in SACK recovery too\n\t\t// gonetif overlay: SACKed data no longer rules a probe out\n\n",
		Why: "in SACK recovery the sender armed no loss probe, only the retransmission timer. When the one ACK " +
			"that would answer a recovery burst is lost, or the retransmission of the hole is lost with nothing " +
			"sent after it, no ACK comes back, and the timeout then collapses the window to one segment, forgets " +
			"every SACK, resends what the peer already holds and doubles the timer. Against a Linux receiver, which " +
			"answers a burst of out-of-order segments with one compressed SACK, this was most of the timeouts at " +
			"10 % loss. With the probe armed in recovery too, a probe two round trips after the last ACK resends " +
			"the hole (edit below) and recovery goes on without a timeout.",
	},
	{
		File: "pkg/tcpip/transport/tcp/rack.go",
		// schedulePTO's allowance for a delayed ACK of a lone segment.
		Anchor:      "\t\tif s.Outstanding == 1 {\n\t\t\tpto += wcDelayedACKTimeout\n",
		Replacement: "\t\tif s.Outstanding == 1 && !s.FastRecovery.Active { // gonetif overlay: no delayed ACK in recovery\n\t\t\tpto += wcDelayedACKTimeout\n",
		Why: "a probe for a lone segment in flight waits 200 ms more, for the peer's delayed ACK; in recovery the " +
			"peer holds out-of-order data and ACKs each segment at once (RFC 5681 4.2), so that wait only turns " +
			"the probe into the timeout it should avoid (the retransmitted hole is often the one segment counted " +
			"in flight).",
	},
	{
		File: "pkg/tcpip/transport/tcp/rack.go",
		// probeTimerExpired's resend of the highest segment sent.
		Anchor:      "\t\tif highestSeqXmit != nil {\n\t\t\tdataSent = s.maybeSendSegment(highestSeqXmit, int(s.ep.scoreboard.SMSS()), s.SndUna.Add(s.SndWnd))\n\t\t\tif dataSent {\n\t\t\t\ts.rc.tlpRxtOut = true\n",
		Replacement: "\t\tif s.FastRecovery.Active && highestSeqXmit != nil { highestSeqXmit = s.writeList.Front() }; if highestSeqXmit != nil { // gonetif overlay: in recovery the probe resends the hole\n\t\t\tdataSent = s.maybeSendSegment(highestSeqXmit, int(s.ep.scoreboard.SMSS()), s.SndUna.Add(s.SndWnd))\n\t\t\tif dataSent {\n\t\t\t\ts.rc.tlpRxtOut = !s.FastRecovery.Active // gonetif overlay: recovery has already cut the window\n",
		Why: "a loss probe resends the highest segment sent, which in recovery the peer has usually SACKed: its " +
			"answer repeats what the sender knows and cannot show a lost retransmission of the hole (RACK skips the " +
			"ambiguous sample), so the sender would probe again and again with the hole unrepaired. In recovery the " +
			"probe resends the first unacknowledged segment instead: either it fills the hole, or the peer already " +
			"has it and ACKs at once. Such a probe does not open a TLP episode: recovery has already reduced the " +
			"window once, and the episode's end would reduce it again.",
	},
	{
		File: "pkg/tcpip/transport/tcp/snd.go",
		// retransmitTimerExpired's new recovery point: whether the last
		// reduction's window was acknowledged is read just before it.
		Anchor:      "\ts.FastRecovery.Last = s.SndNxt - 1\n\n\tif s.FastRecovery.Active {\n",
		Replacement: "\trtoCutsSsthresh := s.FastRecovery.Last.LessThan(s.SndUna); s.FastRecovery.Last = s.SndNxt - 1 // gonetif overlay: a new window of data?\n\n\tif s.FastRecovery.Active {\n",
		Why:         rtoSsthreshWhy,
	},
	{
		File:        "pkg/tcpip/transport/tcp/snd.go",
		Anchor:      "\ts.state = tcpip.RTORecovery\n\ts.cc.HandleRTOExpired()\n",
		Replacement: "\ts.state = tcpip.RTORecovery\n\tif rtoCutsSsthresh { s.cc.HandleRTOExpired() } else { s.SndCwnd = 1 } // gonetif overlay: ssthresh cut once per window of data\n",
		Why:         rtoSsthreshWhy,
	},
	{
		File: "pkg/tcpip/transport/tcp/snd.go",
		// handleRcvdSegment's entry into recovery when RACK marks a
		// segment lost.
		Anchor:      "\t\t\ts.cc.HandleLossDetected()\n\t\t\ts.enterRecovery()\n\t\t\tfastRetransmit = true\n",
		Replacement: "\t\t\tif s.FastRecovery.Last.LessThan(s.SndUna) { s.cc.HandleLossDetected() } // gonetif overlay: ssthresh cut once per window of data\n\t\t\ts.enterRecovery()\n\t\t\tfastRetransmit = true\n",
		Why:         rackSsthreshWhy,
	},
	{
		File: "pkg/tcpip/transport/tcp/rack.go",
		// reorderTimerExpired's entry into recovery.
		Anchor:      "\t\trc.snd.cc.HandleLossDetected()\n\t\trc.snd.enterRecovery()\n",
		Replacement: "\t\tif rc.snd.FastRecovery.Last.LessThan(rc.snd.SndUna) { rc.snd.cc.HandleLossDetected() } // gonetif overlay: ssthresh cut once per window of data\n\t\trc.snd.enterRecovery()\n",
		Why:         rackSsthreshWhy,
	},
	{
		File: "pkg/tcpip/transport/tcp/snd.go",
		// handleRcvdSegment's RTT sample from an ACK of new data when
		// timestamps are on.
		Anchor:      "\t\t\ttsRTT := s.ep.elapsed(s.ep.stack.Clock().NowMonotonic(), rcvdSeg.parsedOptions.TSEcr)\n",
		Replacement: "\t\t\ttsRTT := s.ackRTT(ack, rcvdSeg.parsedOptions.TSEcr) // gonetif overlay: the send time's round trip, the echo only without one\n",
		Why:         rttWhy,
	},
	{
		File:        "pkg/tcpip/transport/tcp/snd.go",
		Anchor:      "\tMinSRTT = 1 * time.Millisecond\n",
		Replacement: "\tMinSRTT = 1 * time.Microsecond // gonetif overlay: no millisecond floor under a LAN's round trip\n",
		Why:         rttWhy,
	},
	{
		File:        "pkg/tcpip/transport/tcp/rack.go",
		Anchor:      "\t\tpto = s.rtt.TCPRTTState.SRTT * 2\n",
		Replacement: "\t\tpto = s.rtt.TCPRTTState.SRTT*2 + probeSlack // gonetif overlay: as Linux, 2 ms above 2 SRTT\n",
		Why:         rttWhy,
	},
	{
		File: "pkg/tcpip/transport/tcp/cubic.go",
		// The end of getCwnd, Cubic's window per ACK in congestion
		// avoidance.
		Anchor:      "\t\tcwnd += (wtRtt - cwnd) / cwnd\n\t}\n\treturn int(cwnd)\n",
		Replacement: "\t\tcwnd += (wtRtt - cwnd) / cwnd\n\t}\n\treturn max(int(cwnd), sndCwnd) // gonetif overlay: an ACK never shrinks the window\n",
		Why: "in congestion avoidance Cubic moved the window towards its curve's value one RTT ahead on every " +
			"ACK, also when that value was below the window, so ACKs shrank it; from a small window (after a " +
			"timeout, or a threshold cut to 2) the float dropped below 1 and its truncation left a window of 0, " +
			"with which the sender never sends again (a 10 MB transfer at 10 % loss stalled until its 60 s " +
			"write deadline). RFC 8312 and Linux only grow the window on an ACK; below the curve it stays.",
	},
	{
		File: "pkg/tcpip/transport/tcp/cubic.go",
		// getCwnd's estimate of Reno's window (the TCP-friendly region).
		Anchor:      "\tc.WEst = c.WMax*c.Beta + (3.0*((1.0-c.Beta)/(1.0+c.Beta)))*(elapsedSeconds/srtt.Seconds())\n",
		Replacement: "\tc.WEst = c.renoEstimate(sndCwnd, packetsAcked) // gonetif overlay: Reno's estimate counts ACKs (gonetif_cubic.go)\n",
		Why:         cubicRenoWhy,
	},
	{
		File:        "pkg/tcpip/transport/tcp/cubic.go",
		Anchor:      "\tc.numCongestionEvents++\n",
		Replacement: "\tc.numCongestionEvents++; c.WEst = 0 // gonetif overlay: Reno's estimate restarts from the window after the cut\n",
		Why:         cubicRenoWhy,
	},
	{
		File:        "pkg/tcpip/transport/tcp/cubic.go",
		Anchor:      "\tc.numCongestionEvents = 0\n",
		Replacement: "\tc.numCongestionEvents = 0; c.WEst = 0 // gonetif overlay: Reno's estimate restarts from the window after the cut\n",
		Why:         cubicRenoWhy,
	},
	{
		File: "pkg/tcpip/transport/tcp/dispatcher.go",
		// The dispatcher's fields: the inline switch (gonetif_inline.go)
		// joins the hasher's line.
		Anchor:      "\thasher     jenkinsHasher\n",
		Replacement: "\thasher     jenkinsHasher; inline inlineSwitch // gonetif overlay: GONETIF_TCP_INLINE\n",
		Why: "the per-stack switch of inline TCP processing (GONETIF_TCP_INLINE, off by default) lives in the " +
			"dispatcher that queuePacket reads.",
	},
	{
		File: "pkg/tcpip/transport/tcp/dispatcher.go",
		// queuePacket's hand-over of the segment to the endpoint's queue.
		Anchor:      "\tif !ep.enqueueSegment(s) {\n",
		Replacement: "\tfull := s.payloadSize() >= fullPayload; if !ep.enqueueSegment(s) { // gonetif overlay: sized while still ours\n",
		Why: "handleInline (below) leaves full-sized segments to the processor; it must know the size before " +
			"the segment is queued: once queued, a processor or the reader may take it and consume its data " +
			"(the race detector caught handleInline reading the size after that).",
	},
	{
		File: "pkg/tcpip/transport/tcp/dispatcher.go",
		// The end of queuePacket: wake a processor only when the segment
		// was not handled on the delivering goroutine.
		Anchor:      "\tif !ep.isOwnedByUser() {\n\t\td.selectProcessor(id).queueEndpoint(ep)\n",
		Replacement: "\tif !ep.isOwnedByUser() && !d.handleInline(ep, full) { // gonetif overlay: inline TCP processing when switched on\n\t\td.selectProcessor(id).queueEndpoint(ep)\n",
		Why: "every incoming segment was handed to a processor goroutine, a cross-CPU wake-up per segment " +
			"(about 1.5 per request/response round trip); with the switch on, a connected endpoint's segment " +
			"is processed by the goroutine that delivered it, falling back to the processor as before " +
			"(gonetif_inline.go, handleInline).",
	},
	{
		File: "pkg/tcpip/transport/tcp/endpoint.go",
		// Endpoint's sendTOS, followed by 5 bytes of padding before gso.
		Anchor:      "\tsendTOS uint8\n\n\tgso stack.GSO\n",
		Replacement: "\tsendTOS uint8; unsentQueued atomicbitops.Bool `state:\"nosave\"` // gonetif overlay: in padding; set by updateWriteNext, read by handleInline\n\n\tgso stack.GSO\n",
		Why:         unsentWhy,
	},
	{
		File: "pkg/tcpip/transport/tcp/snd.go",
		// updateWriteNext, which every change of writeNext goes through.
		Anchor:      "\ts.writeNext = seg\n",
		Replacement: "\ts.writeNext = seg; if s.ep.unsentQueued.Load() != (seg != nil) { s.ep.unsentQueued.Store(seg != nil) } // gonetif overlay: read by handleInline without ep.mu\n",
		Why:         unsentWhy,
	},
	{
		File: "pkg/tcpip/stack/transport_demuxer.go",
		// handlePacket's hand-over to a queued protocol (TCP), which held
		// the demuxer's read lock across QueuePacket.
		Anchor:      "\t\tqueuedProtocol.QueuePacket(transEP, id, pkt)\n\t\tepsByNIC.mu.RUnlock()\n",
		Replacement: "\t\tif queueUnlocked(queuedProtocol) { epsByNIC.mu.RUnlock(); queuedProtocol.QueuePacket(transEP, id, pkt); return true }; queuedProtocol.QueuePacket(transEP, id, pkt) // gonetif overlay: unlocked for inline TCP\n\t\tepsByNIC.mu.RUnlock()\n",
		Why: "inline TCP processing must not run under the demuxer's read lock: closing the endpoint " +
			"unregisters it (the same lock, for writing: a self-deadlock), and a send on a link that delivers " +
			"synchronously (loopback) takes the read lock again, which blocks behind a waiting writer. With the " +
			"switch off the lock is held as before.",
	},
	{
		File: "pkg/tcpip/transport/internal/network/endpoint.go",
		// OnRelease of a datagram's packet (UDP, ICMP, raw): the decision
		// to notify writers.
		Anchor:      "\t\t\tsignal := e.hasSendSpaceRLocked()\n\t\t\te.sendBufferSizeInUseMu.Unlock()\n",
		Replacement: "\t\t\tsignal := e.hasSendSpaceRLocked() && e.sendBufferSizeInUse+pktSize >= e.ops.GetSendBufferSize() // gonetif overlay: notify only when the buffer stops being full\n\t\t\te.sendBufferSizeInUseMu.Unlock()\n",
		Why: "every sent datagram, once written, woke the socket's waiters for writability, though only a " +
			"buffer that was full can have a writer waiting for room: one notification per datagram (the " +
			"waiter queue's lock, the socket's wait word bumped, the C side's wake checks) on the send " +
			"path. Linux wakes writers only when the buffer has room and someone sleeps on it; the fix " +
			"notifies when a release takes the buffer from full to not full.",
	},
	{
		File: "pkg/tcpip/transport/internal/network/endpoint.go",
		// TryNewPacketBufferFromPayloader: a datagram's payload read.
		Anchor:      "\tif _, err := data.WriteFromReader(payloader, int64(payloader.Len())); err != nil {\n",
		Replacement: "\tif _, err := readPayload(&data, payloader); err != nil { // gonetif overlay: a pooled limit reader\n",
		Why: "each datagram's payload was read through a new io.LimitedReader (buffer.WriteFromReader " +
			"makes one when given none): an allocation per datagram sent. gonetif_send.go lends one from a " +
			"pool; the bytes read and the errors are the same.",
	},
	{
		File: "pkg/tcpip/transport/internal/network/endpoint.go",
		// newPacketBufferLocked: the datagram's release closure opens; its
		// body (unchanged) now reads the endpoint and size as parameters.
		Anchor:      "\t\tOnRelease: func() {\n\t\t\te.sendBufferSizeInUseMu.Lock()\n",
		Replacement: "\t\tOnRelease: pooledRelease(e, pktSize, func(e *Endpoint, pktSize int64) { // gonetif overlay: a pooled release, no closure per datagram\n\t\t\te.sendBufferSizeInUseMu.Lock()\n",
		Why:         releaseWhy,
	},
	{
		File:        "pkg/tcpip/transport/internal/network/endpoint.go",
		Anchor:      "\t\t\t\te.waiterQueue.Notify(waiter.WritableEvents)\n\t\t\t}\n\t\t},\n\t})\n}\n",
		Replacement: "\t\t\t\te.waiterQueue.Notify(waiter.WritableEvents)\n\t\t\t}\n\t\t}), // gonetif overlay: closes pooledRelease\n\t})\n}\n",
		Why:         releaseWhy,
	},
	{
		File: "pkg/tcpip/transport/internal/network/endpoint.go",
		// newPacketBufferLocked: room for IPv6's experiment option.
		Anchor:      "\tvar expOptVal uint16\n\tif nic, err := c.e.stack.GetNICByID(c.route.OutgoingNIC()); err == nil && nic.GetExperimentIPOptionEnabled() {\n\t\texpOptVal = c.e.ops.GetExperimentOptionValue()\n\t}\n\tif c.route.NetProto()",
		Replacement: "\tvar expOptVal uint16\n\tif c.e.ops.GetExperimentOptionValue() != 0 && experimentIPOptionOn(c) { // gonetif overlay: no NIC lookup (the stack's lock) without an option value\n\t\texpOptVal = c.e.ops.GetExperimentOptionValue()\n\t}\n\tif c.route.NetProto()",
		Why:         experimentWhy,
	},
	{
		File: "pkg/tcpip/transport/internal/network/endpoint.go",
		// WritePacket: the experiment option's value for the IP header.
		Anchor:      "\tif nic, err := c.e.stack.GetNICByID(c.route.OutgoingNIC()); err == nil && nic.GetExperimentIPOptionEnabled() {\n\t\texpOptVal = c.e.ops.GetExperimentOptionValue()\n\t}\n\n\terr := c.route.WritePacket(",
		Replacement: "\tif c.e.ops.GetExperimentOptionValue() != 0 && experimentIPOptionOn(c) { // gonetif overlay: no NIC lookup (the stack's lock) without an option value\n\t\texpOptVal = c.e.ops.GetExperimentOptionValue()\n\t}\n\n\terr := c.route.WritePacket(",
		Why:         experimentWhy,
	},
	{
		File: "pkg/tcpip/stack/nic.go",
		// delegatingQueueingDiscipline.WritePacket, the NIC's path to its
		// link when no queueing discipline was given.
		Anchor:      "\tvar pkts PacketBufferList\n\tpkts.PushBack(pkt)\n\t_, err := qDisc.LinkWriter.WritePackets(pkts)\n\treturn err\n",
		Replacement: "\tpkts := lendOneList(pkt) // gonetif overlay: a pooled list of one, not a new one per packet\n\t_, err := qDisc.LinkWriter.WritePackets(*pkts) // gonetif overlay: the lent list\n\treturnOneList(pkts) // gonetif overlay: back to the pool, written\n\treturn err\n",
		Why: "every packet sent through a NIC without a queueing discipline went to its link in a new " +
			"one-packet list, whose slice escapes through the link's interface: an allocation per packet " +
			"(datagrams, TCP segments, ACKs). The list is lent from a pool; links write or take references " +
			"before they return, so it is free again then.",
	},
	{
		File: "pkg/tcpip/network/ipv4/ipv4.go",
		// writePacket's OUTPUT hook.
		Anchor:      "\toutNicName := stk.FindNICNameFromID(e.nic.ID())\n\tif ok := stk.IPTables().CheckOutput(pkt, r, outNicName); !ok {\n",
		Replacement: "\toutNicName := e.nic.Name() // gonetif overlay: the endpoint's own NIC, no stack lock\n\tif ok := stk.IPTables().CheckOutput(pkt, r, outNicName); !ok {\n",
		Why:         nicNameWhy,
	},
	{
		File: "pkg/tcpip/network/ipv4/ipv4.go",
		// writePacketPostRouting's POSTROUTING hook.
		Anchor:      "\toutNicName := stk.FindNICNameFromID(e.nic.ID())\n\tif ok := stk.IPTables().CheckPostrouting(pkt, r, e, outNicName); !ok {\n",
		Replacement: "\toutNicName := e.nic.Name() // gonetif overlay: the endpoint's own NIC, no stack lock\n\tif ok := stk.IPTables().CheckPostrouting(pkt, r, e, outNicName); !ok {\n",
		Why:         nicNameWhy,
	},
	{
		File:        "pkg/tcpip/network/ipv6/ipv6.go",
		Anchor:      "\toutNicName := stk.FindNICNameFromID(e.nic.ID())\n\tif ok := stk.IPTables().CheckOutput(pkt, r, outNicName); !ok {\n",
		Replacement: "\toutNicName := e.nic.Name() // gonetif overlay: the endpoint's own NIC, no stack lock\n\tif ok := stk.IPTables().CheckOutput(pkt, r, outNicName); !ok {\n",
		Why:         nicNameWhy,
	},
	{
		File:        "pkg/tcpip/network/ipv6/ipv6.go",
		Anchor:      "\toutNicName := stk.FindNICNameFromID(e.nic.ID())\n\tif ok := stk.IPTables().CheckPostrouting(pkt, r, e, outNicName); !ok {\n",
		Replacement: "\toutNicName := e.nic.Name() // gonetif overlay: the endpoint's own NIC, no stack lock\n\tif ok := stk.IPTables().CheckPostrouting(pkt, r, e, outNicName); !ok {\n",
		Why:         nicNameWhy,
	},
	{
		File: "pkg/tcpip/transport/tcp/endpoint.go",
		// GetSockOptInt's case for FIONREAD's option.
		Anchor:      "\tcase tcpip.ReceiveQueueSizeOption:\n\t\treturn e.readyReceiveSize()\n",
		Replacement: "\tcase tcpip.ReceiveQueueSizeOption, tcpip.SendQueueSizeOption: // gonetif overlay: SIOCOUTQ too\n\t\treturn e.queueSizeOption(opt) // gonetif overlay: both queues\n",
		Why:         sendQueueWhy,
	},
	{
		File: "pkg/tcpip/transport/tcp/snd.go",
		// maybeSendSegment's merge of the queued segments that follow an
		// unsent one into it: split one too large first, ...
		Anchor:      "\t\t\tvar nextTooBig bool\n",
		Replacement: "\t\t\tvar nextTooBig bool; s.splitUnsent(seg, available) // gonetif overlay: the rest stays unsent (gonetif_fill.go)\n",
		Why:         fillWhy,
	},
	{
		File: "pkg/tcpip/transport/tcp/snd.go",
		// ... and take the head of a next one that does not fit whole.
		Anchor:      "\t\t\t\tif seg.payloadSize()+nSeg.payloadSize() > available {\n\t\t\t\t\tnextTooBig = true\n",
		Replacement: "\t\t\t\tif seg.payloadSize()+nSeg.payloadSize() > available {\n\t\t\t\t\tnextTooBig = !s.fillFromNext(seg, nSeg, available) // gonetif overlay: full frames (gonetif_fill.go)\n",
		Why:         fillWhy,
	},
	{
		File: "pkg/buffer/buffer.go",
		// WriteFromReaderAndLimitedReader's view for the next piece of
		// the reader (TCP's and UDP's Write copy the payload through it).
		Anchor:      "\t\tv := NewView(int(vsize))\n\t\tlr.R = r\n",
		Replacement: "\t\tv := newViewUncleared(int(vsize)) // gonetif overlay: io.Copy writes all it exposes (gonetif_uncleared.go)\n\t\tlr.R = r\n",
		Why:         unclearedWhy,
	},
}, memoryEdits...)

// experimentWhy is the reason of the edits of the experiment option check.
const experimentWhy = "each datagram looked up its outgoing NIC twice under the stack's global lock (the NIC " +
	"table's read lock), to see whether the NIC allows IPv6's experiment option, whose value the socket " +
	"sets; with no value set (0, the default) the answer is unused, as the value stays 0 either way. The " +
	"lookup now runs only when the socket has a value, so a datagram no longer waits behind a NIC being " +
	"added or removed."

// releaseWhy is the reason of the edits of a datagram's release.
const releaseWhy = "each datagram sent got a new closure as its OnRelease (the endpoint and the size it " +
	"charged to the send buffer): an allocation per datagram. The closure's body, unchanged, becomes a " +
	"static func taking both as parameters, and pooledRelease (gonetif_send.go) binds them in a pooled " +
	"value whose method it hands out; the packet calls it once, as it called the closure."

// rtoSsthreshWhy is the reason of the edits of the timeout's window cut.
const rtoSsthreshWhy = "every retransmission timeout cut the slow-start threshold again (Reno: half the " +
	"segments in flight, Cubic: beta times the window), also when the window had already been cut for " +
	"the same data: a timeout in SACK recovery cut it a second time (the recovery had cut it on entry), " +
	"and each timeout of a back-off chain cut it once more, from the one segment then in flight, down " +
	"to 2. After the timeout the sender then left slow start at 2 segments and crept up from there. " +
	"Linux cuts the threshold once per window of data: a timeout while the previous cut's data is " +
	"still unacknowledged (in recovery, or after an earlier timeout) only collapses the window to one " +
	"segment. The fix does the same, with the recovery point gVisor already keeps (FastRecovery.Last)."

// rackSsthreshWhy is the reason of the edits of RACK's entries into
// recovery.
const rttWhy = "with timestamps on, every RTT sample came from the timestamp echo, whose clock ticks in " +
	"milliseconds: on a LAN with a round trip of 0.05-0.3 ms the samples read 0 or 1 ms, the smoothed RTT " +
	"~1 ms and its variance as large, so the loss probe (2 SRTT) and the retransmission timer waited " +
	"several round trips for each loss. The sample now comes from the send time of the oldest segment the " +
	"ACK newly acknowledges (gonetif_rtt.go), at the clock's resolution, when none of the acknowledged " +
	"segments was retransmitted (Karn) and that one was not SACKed before; the echo is used only without " +
	"such a segment, as Linux does."

const rackSsthreshWhy = "when RACK marked a segment lost outside fast recovery, the sender cut the slow-start " +
	"threshold and entered recovery, also right after a retransmission timeout, while the timeout's " +
	"window of data was still unacknowledged (the duplicate-ACK entry checks this recovery point, " +
	"RFC 6582; RACK's two entries did not): a second cut for the same loss, from the small window the " +
	"timeout had left. Linux enters no new recovery before that window is acknowledged. The fix keeps " +
	"the entry (the lost segments are resent at once) but cuts only for a new window of data."

// cubicRenoWhy is the reason of the edits of Cubic's estimate of Reno's
// window.
const cubicRenoWhy = "Cubic keeps an estimate of the window Reno would have (the TCP-friendly region) and never " +
	"uses less. The pinned gVisor grew that estimate with time, by 0.53 segment per smoothed RTT since the " +
	"last cut, and started it at 0.7 of W_max (less, after fast convergence). Its smoothed RTT comes from " +
	"millisecond timestamps and stays at 1 ms or more, while a link in one machine answers in 0.05-0.3 ms: " +
	"Reno, which grows per ACK, opened its window 5-20 times faster, and at 10 % loss Cubic's window sat at " +
	"2 segments, too few for a lost segment to be found by later ACKs, so timeouts (~80 against Reno's ~8 per " +
	"4 MB) made it 5-8 times slower. RFC 9438 (4.3) and Linux count ACKs instead: the estimate starts at the " +
	"window after a cut and grows by 0.53 segment per window of ACKed segments (1, as Reno, once past the " +
	"window of the last cut), whatever the clock says."

// nicNameWhy is the reason of the edits that name the outgoing NIC.
const nicNameWhy = "each locally sent packet looked up its own NIC's name twice (iptables OUTPUT and " +
	"POSTROUTING) through the stack's global lock and NIC map, though the network endpoint holds that " +
	"NIC: two lock round trips per packet on the send path, shared with every other sender. A NIC's " +
	"name is fixed when it is created, so the endpoint asks its NIC."

// Memory edits: the per-connection state the pinned gVisor keeps for
// the life of every idle connection (issue 9, bench/RESULTS.md "10,000
// connections: where the memory goes").
var memoryEdits = []Edit{
	{
		File: "pkg/log/log.go",
		// The stack-trace pattern, compiled at start although only
		// LocalStack uses it.
		Anchor:      "var stackRegexp = regexp.MustCompile(`(?m)^\\S+\\(.*\\)$\\r?\\n^\\t\\S+:\\d+.*$\\r?\\n`)\n",
		Replacement: "var stackRegexpOnce sync.Once; var stackRegexpCompiled *regexp.Regexp; func stackRegexp() *regexp.Regexp { stackRegexpOnce.Do(func() { stackRegexpCompiled = regexp.MustCompile(`(?m)^\\S+\\(.*\\)$\\r?\\n^\\t\\S+:\\d+.*$\\r?\\n`) }); return stackRegexpCompiled } // gonetif overlay: compiled when first used\n",
		Why:         regexpWhy,
	},
	{
		File:        "pkg/log/log.go",
		Anchor:      "\treturn stackRegexp.ReplaceAllFunc(Stacks(false), func(s []byte) []byte {\n",
		Replacement: "\treturn stackRegexp().ReplaceAllFunc(Stacks(false), func(s []byte) []byte { // gonetif overlay: compiled when first used\n",
		Why:         regexpWhy,
	},
	{
		File: "pkg/tcpip/ports/ports.go",
		// PortManager's nested map of reservations; the flat one for
		// ports held by one tuple goes beside it.
		Anchor:      "\tallocatedPorts map[portDescriptor]addrToDevice\n",
		Replacement: "\tallocatedPorts map[portDescriptor]addrToDevice; sole map[portDescriptor]soleReservation // gonetif overlay: ports held by one tuple (gonetif_sole.go)\n",
		Why:         portsWhy,
	},
	{
		File:        "pkg/tcpip/ports/ports.go",
		Anchor:      "\t\tif addrs, ok := pm.allocatedPorts[desc]; ok {\n\t\t\tif !addrs.isAvailable(res, portSpecified) {\n",
		Replacement: "\t\tif addrs, ok := pm.portLocked(desc); ok { // gonetif overlay: either map\n\t\t\tif !addrs.isAvailable(res, portSpecified) {\n",
		Why:         portsWhy,
	},
	{
		File:        "pkg/tcpip/ports/ports.go",
		Anchor:      "\tflagBits := res.Flags.Bits()\n\tdst := res.dst()\n\tfor _, network := range res.Networks {\n\t\tdesc := portDescriptor{network, res.Transport, res.Port}\n\t\taddrToDev, ok := pm.allocatedPorts[desc]\n",
		Replacement: "\tflagBits := res.Flags.Bits()\n\tdst := res.dst()\n\tfor _, network := range res.Networks {\n\t\tdesc := portDescriptor{network, res.Transport, res.Port}\n\t\tif pm.addSoleLocked(desc, res, flagBits, nil) { continue }; addrToDev, ok := pm.allocatedPorts[desc] // gonetif overlay: a port of one tuple stays flat\n",
		Why:         portsWhy,
	},
	{
		File:        "pkg/tcpip/ports/ports.go",
		Anchor:      "\tundo := false\n\n\t// Reserve port on all network protocols.\n\tfor _, network := range res.Networks {\n\t\tdesc := portDescriptor{network, res.Transport, res.Port}\n\t\taddrToDev, ok := pm.allocatedPorts[desc]\n",
		Replacement: "\tundo := false\n\n\t// Reserve port on all network protocols.\n\tfor _, network := range res.Networks {\n\t\tdesc := portDescriptor{network, res.Transport, res.Port}\n\t\tif pm.addSoleLocked(desc, res, flagBits, &undo) { continue }; addrToDev, ok := pm.allocatedPorts[desc] // gonetif overlay: a port of one tuple stays flat\n",
		Why:         portsWhy,
	},
	{
		File:        "pkg/tcpip/ports/ports.go",
		Anchor:      "func (pm *PortManager) releasePortLocked(res Reservation) {\n\tdst := res.dst()\n\tfor _, network := range res.Networks {\n\t\tdesc := portDescriptor{network, res.Transport, res.Port}\n\t\taddrToDev, ok := pm.allocatedPorts[desc]\n",
		Replacement: "func (pm *PortManager) releasePortLocked(res Reservation) {\n\tdst := res.dst()\n\tfor _, network := range res.Networks {\n\t\tdesc := portDescriptor{network, res.Transport, res.Port}\n\t\tif pm.dropSoleLocked(desc, res) { continue }; addrToDev, ok := pm.allocatedPorts[desc] // gonetif overlay: a flat port's reference\n",
		Why:         portsWhy,
	},
	{
		File: "pkg/tcpip/transport/tcp/timer.go",
		// checkExpiration's two ends where the clock timer has fired and
		// nothing re-arms it.
		Anchor:      "\tif t.state == timerStateOrphaned {\n\t\tt.state = timerStateDisabled\n",
		Replacement: "\tif t.state == timerStateOrphaned {\n\t\tt.state, t.timer = timerStateDisabled, nil // gonetif overlay: the spent clock timer is dropped\n",
		Why:         timerWhy,
	},
	{
		File:        "pkg/tcpip/transport/tcp/timer.go",
		Anchor:      "\t// caller.\n\tt.state = timerStateDisabled\n\treturn true\n",
		Replacement: "\t// caller.\n\tt.state, t.timer = timerStateDisabled, nil // gonetif overlay: the spent clock timer is dropped\n\treturn true\n",
		Why:         timerWhy,
	},
	{
		File: "pkg/tcpip/transport/tcp/timer.go",
		// cleanup: a timer once armed (target set) is reset to
		// uninitialized as before, also when its clock timer was dropped.
		Anchor:      "\tif t.timer == nil {\n\t\t// No cleanup needed.\n\t\treturn\n\t}\n\tt.timer.Stop()\n",
		Replacement: "\tif t.timer == nil && t.target == (tcpip.MonotonicTime{}) { // gonetif overlay: never armed\n\t\t// No cleanup needed.\n\t\treturn\n\t}\n\tif t.timer != nil { t.timer.Stop() } // gonetif overlay: it may have been dropped\n",
		Why:         timerWhy,
	},
	{
		File: "pkg/tcpip/transport/tcp/dispatcher.go",
		// The end of handleConnecting, after a passive endpoint went to its
		// listener's accept queue.
		Anchor:      "\t\t\tcleanup()\n\t\t\treturn\n\t\t}\n\t}\n\tep.mu.Unlock()\n}\n",
		Replacement: "\t\t\tcleanup()\n\t\t\treturn\n\t\t}\n\t}\n\tif ep.EndpointState() == StateEstablished && (ep.h.active || ep.h.listenEP != nil) { ep.h = nil }; ep.mu.Unlock() // gonetif overlay: the handshake is done, drop it (a forwarder drops its own)\n}\n",
		Why: "an endpoint kept its handshake (with the SYN options and a backoff timer, ~300 bytes) for its " +
			"whole life after opening: gVisor drops it only for the forwarder's passive opens. Once the " +
			"endpoint is established and, if passive, in its listener's accept queue, nothing reads it " +
			"(every later use checks for nil or runs only while connecting), so it is dropped there. Not for a forwarder's endpoint (no listener, not active): its performHandshake still reads the handshake after this and drops it itself (dropping it here crashed gonetif's user-mode link).",
	},
	{
		File: "pkg/tcpip/transport/tcp/endpoint.go",
		// Five small fields of Endpoint, each alone in an 8-byte slot,
		// move into padding beside other small fields: 32 bytes less.
		Anchor:      "type Endpoint struct {\n\tTCPEndpointStateInner\n",
		Replacement: "type Endpoint struct {\n\tTCPEndpointStateInner; delay uint32 // gonetif overlay: delay (Nagle, atomic) moved here from below, into padding\n",
		Why:         endpointWhy,
	},
	{
		File:        "pkg/tcpip/transport/tcp/endpoint.go",
		Anchor:      "\t// +checklocks:pendingProcessingMu\n\tpendingProcessing bool `state:\"nosave\"`\n",
		Replacement: "\t// +checklocks:pendingProcessingMu\n\t// gonetif overlay: pendingProcessing is declared beside isRegistered, in padding\n",
		Why:         endpointWhy,
	},
	{
		File:        "pkg/tcpip/transport/tcp/endpoint.go",
		Anchor:      "\tisRegistered      bool\n\tboundNICID        tcpip.NICID\n",
		Replacement: "\tisRegistered      bool; pendingProcessing bool `state:\"nosave\"` // gonetif overlay: moved here (guarded by pendingProcessingMu)\n\tboundNICID        tcpip.NICID; tcpRecovery tcpip.TCPRecovery // gonetif overlay: moved here from below, into padding\n",
		Why:         endpointWhy,
	},
	{
		File:        "pkg/tcpip/transport/tcp/endpoint.go",
		Anchor:      "\t// tcpRecovery is the loss recovery algorithm used by TCP.\n\ttcpRecovery tcpip.TCPRecovery\n",
		Replacement: "\t// tcpRecovery is the loss recovery algorithm used by TCP.\n\t// gonetif overlay: tcpRecovery is declared beside boundNICID, in padding\n",
		Why:         endpointWhy,
	},
	{
		File:        "pkg/tcpip/transport/tcp/endpoint.go",
		Anchor:      "\t// delay is a boolean (0 is false) and must be accessed atomically.\n\tdelay uint32\n",
		Replacement: "\t// delay is a boolean (0 is false) and must be accessed atomically.\n\t// gonetif overlay: delay is declared after TCPEndpointStateInner, in padding\n",
		Why:         endpointWhy,
	},
	{
		File:        "pkg/tcpip/transport/tcp/endpoint.go",
		Anchor:      "\tboundPortFlags    ports.Flags\n",
		Replacement: "\tboundPortFlags    ports.Flags; alsoBindToV4, terminateAtRestore bool // gonetif overlay: moved here from the end (guarded by mu), into padding\n",
		Why:         endpointWhy,
	},
	{
		File:        "pkg/tcpip/transport/tcp/endpoint.go",
		Anchor:      "\t// +checklocks:mu\n\talsoBindToV4 bool\n",
		Replacement: "\t// +checklocks:mu\n\t// gonetif overlay: alsoBindToV4 is declared beside boundPortFlags, in padding\n",
		Why:         endpointWhy,
	},
	{
		File:        "pkg/tcpip/transport/tcp/endpoint.go",
		Anchor:      "\t// +checklocks:mu\n\tterminateAtRestore bool\n}\n",
		Replacement: "\t// +checklocks:mu\n\t// gonetif overlay: terminateAtRestore is declared beside boundPortFlags, in padding\n}\n",
		Why:         endpointWhy,
	},
	{
		File:        "pkg/tcpip/transport/tcp/sack_scoreboard.go",
		Anchor:      "\t\tranges:    btree.NewG[header.SACKBlock](defaultBtreeDegree, sackBlockLess),\n",
		Replacement: "\t\tranges:    btree.NewWithFreeListG(defaultBtreeDegree, sackBlockLess, sackNodes), // gonetif overlay: one shared free list\n",
		Why:         sackWhy,
	},
	{
		File: "pkg/tcpip/stack/transport_demuxer.go",
		// endpointsByNIC's table: the type; the edits after it are its uses.
		Anchor:      "\tendpoints map[tcpip.NICID]*multiPortEndpoint\n}\n",
		Replacement: "\tendpoints nicEndpoints // gonetif overlay: the first NIC inline, a map only for more (gonetif_nicmap.go)\n}\n",
		Why:         demuxWhy,
	},
	{
		File:        "pkg/tcpip/stack/transport_demuxer.go",
		Anchor:      "\tfor _, ep := range epsByNIC.endpoints {\n",
		Replacement: "\tfor _, ep := range epsByNIC.endpoints.all { // gonetif overlay: nicEndpoints\n",
		Why:         demuxWhy,
	},
	{
		File:        "pkg/tcpip/stack/transport_demuxer.go",
		Anchor:      "\tmpep, ok := epsByNIC.endpoints[pkt.NICID]\n\tif !ok {\n\t\tif mpep, ok = epsByNIC.endpoints[0]; !ok {\n",
		Replacement: "\tmpep, ok := epsByNIC.endpoints.get(pkt.NICID) // gonetif overlay: nicEndpoints\n\tif !ok {\n\t\tif mpep, ok = epsByNIC.endpoints.get(0); !ok { // gonetif overlay: nicEndpoints\n",
		Why:         demuxWhy,
	},
	{
		File:        "pkg/tcpip/stack/transport_demuxer.go",
		Anchor:      "\tmpep, ok := epsByNIC.endpoints[n.ID()]\n\tif !ok {\n\t\tmpep, ok = epsByNIC.endpoints[0]\n",
		Replacement: "\tmpep, ok := epsByNIC.endpoints.get(n.ID()) // gonetif overlay: nicEndpoints\n\tif !ok {\n\t\tmpep, ok = epsByNIC.endpoints.get(0) // gonetif overlay: nicEndpoints\n",
		Why:         demuxWhy,
	},
	{
		File:        "pkg/tcpip/stack/transport_demuxer.go",
		Anchor:      "\tmultiPortEp, ok := epsByNIC.endpoints[bindToDevice]\n\tif !ok {\n\t\tmultiPortEp = &multiPortEndpoint{\n",
		Replacement: "\tmultiPortEp, ok := epsByNIC.endpoints.get(bindToDevice) // gonetif overlay: nicEndpoints\n\tif !ok {\n\t\tmultiPortEp = &multiPortEndpoint{\n",
		Why:         demuxWhy,
	},
	{
		File:        "pkg/tcpip/stack/transport_demuxer.go",
		Anchor:      "\t\tepsByNIC.endpoints[bindToDevice] = multiPortEp\n",
		Replacement: "\t\tepsByNIC.endpoints.set(bindToDevice, multiPortEp) // gonetif overlay: nicEndpoints\n",
		Why:         demuxWhy,
	},
	{
		File:        "pkg/tcpip/stack/transport_demuxer.go",
		Anchor:      "\tmultiPortEp, ok := epsByNIC.endpoints[bindToDevice]\n\tif !ok {\n\t\treturn nil\n",
		Replacement: "\tmultiPortEp, ok := epsByNIC.endpoints.get(bindToDevice) // gonetif overlay: nicEndpoints\n\tif !ok {\n\t\treturn nil\n",
		Why:         demuxWhy,
	},
	{
		File:        "pkg/tcpip/stack/transport_demuxer.go",
		Anchor:      "\tmultiPortEp, ok := epsByNIC.endpoints[bindToDevice]\n\tif !ok {\n\t\treturn false\n",
		Replacement: "\tmultiPortEp, ok := epsByNIC.endpoints.get(bindToDevice) // gonetif overlay: nicEndpoints\n\tif !ok {\n\t\treturn false\n",
		Why:         demuxWhy,
	},
	{
		File:        "pkg/tcpip/stack/transport_demuxer.go",
		Anchor:      "\t\tdelete(epsByNIC.endpoints, bindToDevice)\n\t}\n\treturn len(epsByNIC.endpoints) == 0\n",
		Replacement: "\t\tepsByNIC.endpoints.remove(bindToDevice) // gonetif overlay: nicEndpoints\n\t}\n\treturn epsByNIC.endpoints.len() == 0 // gonetif overlay: nicEndpoints\n",
		Why:         demuxWhy,
	},
	{
		File:        "pkg/tcpip/stack/transport_demuxer.go",
		Anchor:      "\t\t\tendpoints: make(map[tcpip.NICID]*multiPortEndpoint),\n",
		Replacement: "\t\t\t// gonetif overlay: the zero nicEndpoints is empty, no map is made\n",
		Why:         demuxWhy,
	},
	{
		File:        "pkg/tcpip/stack/transport_demuxer.go",
		Anchor:      "\tmpep, ok := epsByNIC.endpoints[nicID]\n\tif !ok {\n\t\tif mpep, ok = epsByNIC.endpoints[0]; !ok {\n",
		Replacement: "\tmpep, ok := epsByNIC.endpoints.get(nicID) // gonetif overlay: nicEndpoints\n\tif !ok {\n\t\tif mpep, ok = epsByNIC.endpoints.get(0); !ok { // gonetif overlay: nicEndpoints\n",
		Why:         demuxWhy,
	},
	{
		File: "pkg/tcpip/transport/tcp/snd.go",
		// initSender: no map of the write list's segments.
		Anchor:      "\t\twriteList: protectedWriteList{\n\t\t\tset: make(map[*segment]struct{}),\n\t\t},\n",
		Replacement: "\t\twriteList: protectedWriteList{\n\t\t\t// gonetif overlay: no set, the list's links are checked (gonetif_writelist.go)\n\t\t},\n",
		Why:         writeListWhy,
	},
	{
		File:        "pkg/tcpip/transport/tcp/snd.go",
		Anchor:      "\tif _, ok := wl.set[seg]; !ok {\n\t\tpanic(\"segment not found write list\")\n\t}\n\twl.writeList.Remove(seg)\n\tdelete(wl.set, seg)\n",
		Replacement: "\tif !wl.holds(seg) { // gonetif overlay: the list's links, not a set\n\t\tpanic(\"segment not found write list\")\n\t}\n\twl.writeList.Remove(seg)\n\t// gonetif overlay: no set to delete from\n",
		Why:         writeListWhy,
	},
	{
		File:        "pkg/tcpip/transport/tcp/snd.go",
		Anchor:      "\tif _, ok := wl.set[seg]; ok {\n\t\tpanic(\"segment already in write list\")\n\t}\n\twl.writeList.PushBack(seg)\n\twl.set[seg] = struct{}{}\n",
		Replacement: "\tif wl.linkedInto(seg) { // gonetif overlay: the list's links, not a set\n\t\tpanic(\"segment already in write list\")\n\t}\n\twl.writeList.PushBack(seg)\n\t// gonetif overlay: no set to add to\n",
		Why:         writeListWhy,
	},
	{
		File:        "pkg/tcpip/transport/tcp/snd.go",
		Anchor:      "\tif _, ok := wl.set[seg]; ok {\n\t\tpanic(\"segment already in write list\")\n\t}\n\twl.writeList.InsertAfter(before, seg)\n\twl.set[seg] = struct{}{}\n",
		Replacement: "\tif wl.linkedInto(seg) { // gonetif overlay: the list's links, not a set\n\t\tpanic(\"segment already in write list\")\n\t}\n\twl.writeList.InsertAfter(before, seg)\n\t// gonetif overlay: no set to add to\n",
		Why:         writeListWhy,
	},
	{
		File:        "pkg/tcpip/transport/tcp/snd.go",
		Anchor:      "\tif _, ok := s.writeList.set[seg]; !ok {\n\t\tpanic(\"attempted to send segment not in write list\")\n",
		Replacement: "\tif !s.writeList.holds(seg) { // gonetif overlay: the list's links, not a set\n\t\tpanic(\"attempted to send segment not in write list\")\n",
		Why:         writeListWhy,
	},
	{
		File:        "pkg/tcpip/transport/tcp/sack_scoreboard.go",
		Anchor:      "\ts.ranges = btree.NewG[header.SACKBlock](defaultBtreeDegree, sackBlockLess)\n",
		Replacement: "\ts.ranges = btree.NewWithFreeListG(defaultBtreeDegree, sackBlockLess, sackNodes) // gonetif overlay: one shared free list\n",
		Why:         sackWhy,
	},
}

const (
	portsWhy = "every connecting socket reserves its ephemeral port as three nested one-entry maps " +
		"(address, device, destination), ~1.5 KB, the innermost with 8 slots of 96 bytes. A port held by " +
		"one tuple is kept in one flat map instead (gonetif_sole.go, 128 bytes); when a second tuple comes " +
		"it moves into the nested maps, and every availability check sees the nested form, so binding, " +
		"SO_REUSEADDR/SO_REUSEPORT, conflicts and ephemeral exhaustion decide as before."
	timerWhy = "each TCP timer keeps its Go clock timer (with closures, ~150 bytes) after it fired for the " +
		"last time, so every idle connection holds two or three spent ones. The clock timer is dropped once " +
		"it has fired and nothing re-armed it, and made again when the timer is next armed; cleanup still " +
		"marks a once-armed timer uninitialized."
	endpointWhy = "tcp.Endpoint is 1 560 bytes, which with the 8-byte header Go's allocator puts on large " +
		"objects with pointers takes a 1 792-byte block. Five 1- and 4-byte fields that each sat alone in an " +
		"8-byte slot move into padding beside other small fields (Go keeps fields in declaration order), " +
		"making it 1 528 bytes, a 1 536-byte block: 256 bytes less per endpoint. Nothing in gVisor depends " +
		"on the order (the save/restore code names fields)."
	unsentWhy = "inline TCP processing (GONETIF_TCP_INLINE) leaves bulk transfer to the processor: an " +
		"endpoint with unsent data queued. handleInline read that under the endpoint's lock, taken and " +
		"released once per segment before processing took it again; in bulk transfer that lock is the " +
		"processor's most of the time, and each collision made the processor skip the endpoint (its " +
		"TryLock fails) and be woken again. The sender now also keeps whether data is queued unsent in an " +
		"atomic flag of the endpoint (in padding: no bigger), so handleInline decides without the lock."
	regexpWhy = "gVisor's log package compiles a stack-trace pattern when the program starts, for LocalStack " +
		"alone, which gonetif never calls; that one package-level value linked Go's regexp engine and the " +
		"unicode tables it references into every program (text, tables and their start-up maps). It is " +
		"compiled on LocalStack's first call instead."
	demuxWhy = "each connection has its own demuxer entry, whose table of endpoints by bound NIC was a " +
		"map with one entry (~190 bytes: the map and its 8-slot group). The table keeps its first NIC inline " +
		"and makes a map only for a second (gonetif_nicmap.go); lookups, the NIC-0 fallback, registration, " +
		"removal and the emptiness check behave as with the map."
	writeListWhy = "each sender kept a map of the segments in its write list, a debugging check gVisor marks " +
		"for removal once its bug is found (~180 bytes per endpoint, and a map insert and delete per segment). " +
		"The checks now use the list's own links (gonetif_writelist.go): an outgoing segment is only ever " +
		"linked into its sender's write list, so a segment pushed while linked, or removed or sent while not " +
		"linked, still panics as before."
	sendQueueWhy = "gVisor's TCP endpoint did not answer SendQueueSizeOption, so SIOCOUTQ (TIOCOUTQ) had no " +
		"value to give; Linux answers the bytes written and not yet acknowledged. The endpoint keeps that " +
		"count for its send buffer (SndBufUsed: raised by writes, lowered by acknowledgements), and the " +
		"option now reads it (gonetif_sendqueue.go); a listener is EINVAL, as on Linux."
	fillWhy = "the sender merges the queued segments after an unsent one into it only when each fits " +
		"whole, and a segment longer than the GSO limit was split only after it got its sequence number, " +
		"so its rest went out alone: 64 KiB writes against a 65 375-byte limit made a full frame and a " +
		"161-byte one each, one write(2) into the TAP and one segment for the peer, a third of the frames of " +
		"a bulk send. Now a segment too long is split before it is numbered (when at least an MSS fits, so " +
		"small windows are handled as before) and the head of the next segment that fits is moved in " +
		"(gonetif_fill.go), so every frame " +
		"but a transfer's last is as large as the window and the GSO limit allow, as Linux fills its own. " +
		"gVisor kept segment boundaries for applications that depend on them (a DNS length and its message " +
		"in one segment); Linux gives no such promise either."
	unclearedWhy = "every view gVisor takes from its chunk pools is cleared first, 64 KiB at a time in bulk " +
		"transfer (5-7 % of the CPU of a bulk send or receive), though the bytes are written before anyone " +
		"reads them: the TAP reader reads a frame into its views and exposes only what was read, and " +
		"Write's copy exposes only what it copied. Those two take their views uncleared " +
		"(gonetif_uncleared.go); Buffer.Grow still clears what it exposes when asked to."
	sackWhy = "each endpoint's SACK scoreboard made its own btree free list with room for 32 nodes (~290 " +
		"bytes), and a new one on every reset; the scoreboards now share one (gonetif_sack.go), which the " +
		"btree package allows and locks."
)

// NewFile is a file the overlay adds to a gVisor package, for code that
// the edits call and that would not fit on their lines. Its source is
// add/File.txt in this package; File must not exist in gVisor.
type NewFile struct {
	File string
	Why  string
}

// NewFiles are added to gVisor's packages.
var NewFiles = []NewFile{
	{File: "pkg/tcpip/ports/gonetif_sole.go", Why: portsWhy},
	{File: "pkg/tcpip/transport/tcp/gonetif_sack.go", Why: sackWhy},
	{File: "pkg/tcpip/transport/tcp/gonetif_writelist.go", Why: writeListWhy},
	{File: "pkg/tcpip/transport/tcp/gonetif_rtt.go", Why: rttWhy},
	{File: "pkg/tcpip/transport/tcp/gonetif_cubic.go",
		Why: "renoEstimate, Cubic's estimate of Reno's window counted in ACKs, called by the cubic.go edit"},
	{File: "pkg/tcpip/transport/tcp/gonetif_sendqueue.go", Why: sendQueueWhy},
	{File: "pkg/tcpip/transport/tcp/gonetif_inline.go",
		Why: "the inline switch (GONETIF_TCP_INLINE) and handleInline, called by the dispatcher.go edit"},
	{File: "pkg/tcpip/transport/tcp/gonetif_tssecret.go",
		Why: "SetTimestampSecret, called by gonetif/stack: one timestamp secret per host boot, so that a new " +
			"process's SYN to a 4-tuple still in the peer's TIME_WAIT carries a newer TSval than the last " +
			"process's and passes the peer's PAWS check (a random secret per stack failed it about half the " +
			"time, and each failure cost an ACK, a reset and three or four more SYNs and SYN-ACKs)"},
	{File: "pkg/tcpip/transport/tcp/gonetif_fill.go", Why: fillWhy},
	{File: "pkg/buffer/gonetif_uncleared.go", Why: unclearedWhy},
	{File: "pkg/tcpip/stack/gonetif_nicmap.go", Why: demuxWhy},
	{File: "pkg/tcpip/stack/gonetif_queue.go",
		Why: "queueUnlocked, called by the transport_demuxer.go edit"},
	{File: "pkg/tcpip/stack/gonetif_onelist.go",
		Why: "lendOneList and returnOneList, called by the nic.go edit"},
	{File: "pkg/tcpip/transport/internal/network/gonetif_send.go",
		Why: "readPayload, pooledRelease and experimentIPOptionOn, called by the endpoint.go edits"},
}

//go:embed add
var added embed.FS

// Added returns the source of a new file, checked: it parses, carries the
// marker, and its package is the one of the directory it goes into.
func Added(f NewFile) ([]byte, error) {
	src, err := added.ReadFile(path.Join("add", f.File+".txt"))
	if err != nil {
		return nil, fmt.Errorf("gvisorfix: new file %s: %w", f.File, err)
	}
	return src, checkNewFile(f.File, src)
}

func checkNewFile(file string, src []byte) error {
	ast, err := parser.ParseFile(token.NewFileSet(), file, src, parser.PackageClauseOnly|parser.ParseComments)
	if err != nil {
		return fmt.Errorf("gvisorfix: new file %s does not parse: %w", file, err)
	}
	if want := path.Base(path.Dir(file)); ast.Name.Name != want {
		return fmt.Errorf("gvisorfix: new file %s is package %s, want %s", file, ast.Name.Name, want)
	}
	if !bytes.HasPrefix(src, []byte("// "+Marker)) {
		return fmt.Errorf("gvisorfix: new file %s does not start with %q", file, "// "+Marker)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), file, src, parser.SkipObjectResolution); err != nil {
		return fmt.Errorf("gvisorfix: new file %s does not parse: %w", file, err)
	}
	return nil
}

// ErrExists is returned when a file the overlay adds is already in
// gVisor.
var ErrExists = errors.New("gvisorfix: a file the overlay adds exists in gVisor: gVisor changed, check the new file and update internal/gvisorfix")

// Marker is in the patched files only.
const Marker = "gonetif overlay:"

// ErrAnchor is returned when the text an edit replaces is missing or
// ambiguous.
var ErrAnchor = errors.New("gvisorfix: the edited text was not found exactly once: gVisor changed, check whether the fix is still needed and update internal/gvisorfix")

// Patch returns src, the contents of file, with every edit of that file
// applied.
func Patch(file string, src []byte) ([]byte, error) {
	return patch(Edits, file, src)
}

func patch(edits []Edit, file string, src []byte) ([]byte, error) {
	out, n := src, 0
	for _, e := range edits {
		if e.File != file {
			continue
		}
		if c := bytes.Count(out, []byte(e.Anchor)); c != 1 {
			return nil, fmt.Errorf("%w (%s, found %d times; the edit: %s)", ErrAnchor, file, c, e.Why)
		}
		if strings.Count(e.Anchor, "\n") != strings.Count(e.Replacement, "\n") {
			return nil, fmt.Errorf("gvisorfix: an edit of %s changes the line count", file)
		}
		out = bytes.Replace(out, []byte(e.Anchor), []byte(e.Replacement), 1)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("gvisorfix: no edit of %s", file)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), file, out, parser.SkipObjectResolution); err != nil {
		return nil, fmt.Errorf("gvisorfix: patched %s does not parse: %w", file, err)
	}
	return out, nil
}

// Files lists the files Edits change, in order of first edit.
func Files() []string {
	var files []string
	for _, e := range Edits {
		if !contains(files, e.File) {
			files = append(files, e.File)
		}
	}
	return files
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ModuleDir returns where the go command keeps the pinned gVisor, after
// downloading it if needed. dir is a directory inside this module. Any
// -overlay or -modfile in GOFLAGS is dropped for these calls: they may not
// exist yet.
func ModuleDir(dir string) (string, error) {
	env := goEnv()
	dl := exec.Command("go", "mod", "download", Module)
	dl.Dir, dl.Env = dir, env
	if out, err := dl.CombinedOutput(); err != nil {
		return "", fmt.Errorf("gvisorfix: go mod download %s: %v: %s", Module, err, out)
	}
	ls := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", Module)
	ls.Dir, ls.Env = dir, env
	out, err := ls.Output()
	if err != nil {
		return "", fmt.Errorf("gvisorfix: go list -m %s: %v", Module, err)
	}
	d := strings.TrimSpace(string(out))
	if d == "" {
		return "", fmt.Errorf("gvisorfix: go list -m %s gave no directory", Module)
	}
	return d, nil
}

func goEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if v, ok := strings.CutPrefix(kv, "GOFLAGS="); ok {
			var keep []string
			for _, f := range strings.Fields(v) {
				if !strings.HasPrefix(strings.TrimPrefix(f, "-"), "-overlay") && !strings.HasPrefix(strings.TrimPrefix(f, "-"), "-modfile") {
					keep = append(keep, f)
				}
			}
			kv = "GOFLAGS=" + strings.Join(keep, " ")
		}
		env = append(env, kv)
	}
	return env
}

// Generate patches the pinned gVisor of the module in dir and writes the
// files described above into out; it returns the flags to build with.
func Generate(dir, out string) (string, error) {
	mod, err := ModuleDir(dir)
	if err != nil {
		return "", err
	}
	if out, err = filepath.Abs(out); err != nil {
		return "", err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("gvisorfix: %w", err)
	}
	link := filepath.Join(out, "gvisor")
	if old, err := os.Readlink(link); err != nil || old != mod {
		os.Remove(link)
		if err := os.Symlink(mod, link); err != nil {
			return "", fmt.Errorf("gvisorfix: %w", err)
		}
	}
	env := exec.Command("go", "env", "GOMOD")
	env.Dir, env.Env = dir, goEnv()
	where, err := env.Output()
	if err != nil || !filepath.IsAbs(strings.TrimSpace(string(where))) {
		return "", fmt.Errorf("gvisorfix: no go.mod for %s (%v)", dir, err)
	}
	root := filepath.Dir(strings.TrimSpace(string(where)))
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("gvisorfix: %w", err)
	}
	gosum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		return "", fmt.Errorf("gvisorfix: %w", err)
	}
	gomod = fmt.Appendf(gomod, "\n// Written by internal/gvisorfix: the pinned gVisor, through a path the\n// overlay may patch.\nreplace %s => %s\n", Module, link)
	for name, data := range map[string][]byte{"go.mod": gomod, "go.sum": gosum} {
		if err := writeIfChanged(filepath.Join(out, name), data); err != nil {
			return "", err
		}
	}
	// Patched files go under src/ by their path in gVisor: two files of
	// one name cannot collide.
	repl := map[string]string{}
	for _, f := range Files() {
		src, err := os.ReadFile(filepath.Join(mod, filepath.FromSlash(f)))
		if err != nil {
			return "", fmt.Errorf("gvisorfix: %w", err)
		}
		patched, err := Patch(f, src)
		if err != nil {
			return "", err
		}
		dst := filepath.Join(out, "src", filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", fmt.Errorf("gvisorfix: %w", err)
		}
		if err := writeIfChanged(dst, patched); err != nil {
			return "", err
		}
		repl[filepath.Join(link, filepath.FromSlash(f))] = dst
	}
	if err := addNewFiles(mod, link, out, NewFiles, Added, repl); err != nil {
		return "", err
	}
	js, err := json.MarshalIndent(struct{ Replace map[string]string }{repl}, "", "\t")
	if err != nil {
		return "", err
	}
	overlay := filepath.Join(out, "overlay.json")
	if err := writeIfChanged(overlay, append(js, '\n')); err != nil {
		return "", err
	}
	return Flags(out), nil
}

// addNewFiles writes each file of files (its source from src) under
// out/src and maps it in repl to its place under link, the module
// directory mod seen through the symlink.
func addNewFiles(mod, link, out string, files []NewFile, src func(NewFile) ([]byte, error), repl map[string]string) error {
	for _, f := range files {
		if _, err := os.Lstat(filepath.Join(mod, filepath.FromSlash(f.File))); !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w (%s)", ErrExists, f.File)
		}
		data, err := src(f)
		if err != nil {
			return err
		}
		dst := filepath.Join(out, "src", filepath.FromSlash(f.File))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("gvisorfix: %w", err)
		}
		if err := writeIfChanged(dst, data); err != nil {
			return err
		}
		repl[filepath.Join(link, filepath.FromSlash(f.File))] = dst
	}
	return nil
}

// Flags returns the go command flags that build with the files Generate
// wrote into out (an absolute path).
func Flags(out string) string {
	return "-modfile=" + filepath.Join(out, "go.mod") + " -overlay=" + filepath.Join(out, "overlay.json")
}

// writeIfChanged leaves an identical file alone, so make-style builds that
// depend on it are not redone.
func writeIfChanged(name string, data []byte) error {
	if old, err := os.ReadFile(name); err == nil && bytes.Equal(old, data) {
		return nil
	}
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("gvisorfix: %w", err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return fmt.Errorf("gvisorfix: %w", err)
	}
	return nil
}
