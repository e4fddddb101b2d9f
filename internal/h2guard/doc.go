// Package h2guard wraps a net.Listener whose connections net/http serves as
// cleartext HTTP/2 (h2c, with prior knowledge) and adds, at the byte level
// and without net/http's help, two things its HTTP/2 server lacks:
//
//   - A flood budget. net/http answers every PING (and takes every PING
//     ACK), SETTINGS, WINDOW_UPDATE, PRIORITY, GOAWAY, DATA frame however
//     little data it carries, and stream reset at its own cost, with no
//     cut-off: one connection that sends nothing else costs a core. A
//     guarded connection follows the frames its peer sends as Read passes
//     them, and those net/http writes as Write passes them, and weighs what
//     the peer's frames cost against the work they carry: a DATA frame
//     counts by its data, padding aside, so that a message sent a byte a
//     frame is cheap and a stream of small messages is not; a frame that
//     makes net/http reset a stream counts as a reset (Options.MaxCheapFrames,
//     budget). The peer's own reset counts as one only when the stream is
//     younger than 10 ms and net/http has not answered it yet (a rapid
//     reset sends HEADERS and RST_STREAM together); a client that cancels
//     calls at their deadline resets streams that lived that long, or that
//     the server answered, and each costs a cheap frame. Past the budget
//     it writes GOAWAY ENHANCE_YOUR_CALM, Read
//     returns ErrEnhanceYourCalm, net/http closes the connection, and the
//     close lingers so that the peer reads the GOAWAY.
//   - The first GOAWAY of a graceful shutdown (RFC 9113 §6.8: last stream
//     2^31-1, NO_ERROR), sent by GoAway, which net/http does not send: its
//     Shutdown sends one GOAWAY, with the last stream it has seen, and
//     refuses newer streams. After the first one, clients open no new
//     stream on the connection but finish theirs, while net/http serves on.
//
// Both write a frame of their own into the byte stream net/http writes. A
// guarded connection follows the frames written as Write passes them and
// puts its frame only where a frame may go: after net/http's first frame
// (its SETTINGS, which must come first), between two frames, and never
// inside a header block (between HEADERS or PUSH_PROMISE without
// END_HEADERS and its last CONTINUATION, RFC 9113 §6.10). A frame asked for
// elsewhere waits for a write that gets there. The last stream id of a
// GOAWAY ENHANCE_YOUR_CALM is the highest stream whose header block the
// peer completed, never above that of a GOAWAY net/http already sent; the
// shutdown notice is dropped once net/http has sent its own.
//
// A connection that does not open with the whole client preface is left
// alone: Read and Write pass straight through. The guard reads what
// net/http reads: under TLS, put it above the TLS layer, never below, where
// it would see ciphertext (package tlsterm). Counters are per Listener
// (Listener.Stats).
//
// # What it relies on in net/http
//
// Each of these is pinned by a test in nethttp_test.go that runs net/http
// alone, so that a Go release that changes one fails that test by name:
//
//  1. net/http writes nothing on a connection before it has read the whole
//     24-byte client preface, and its first frame is its SETTINGS: the
//     guard knows a connection is HTTP/2 before the first Write, and starts
//     following frames at the first byte written
//     (TestNetHTTPReadsTheWholePrefaceBeforeItWrites).
//  2. net/http serves a connection as HTTP/2 only if it opens with the whole
//     preface (a wrong second half gets an HTTP/1.1 answer): the guard
//     makes the same decision (TestNetHTTPTakesOnlyTheWholePrefaceForHTTP2).
//  3. After the preface, net/http writes only whole frames, from one
//     goroutine at a time: a frame may span Writes, but Writes do not
//     interleave, so the bytes of each Write continue the frames of the one
//     before (TestNetHTTPWritesFramesOneWriteAtATime).
//  4. net/http writes a header block larger than a frame as HEADERS without
//     END_HEADERS followed at once by CONTINUATION frames, with none of its
//     own frames between them: the window the guard must never write into,
//     and which its tests make happen
//     (TestNetHTTPSplitsLargeHeaderBlocksIntoContinuation).
//  5. At Shutdown, net/http sends one GOAWAY NO_ERROR carrying the highest
//     stream it has seen, not the 2^31-1 notice first: GoAway adds that
//     notice (TestNetHTTPShutdownSendsOneGoAwayWithItsLastStream).
//  6. When Read fails with an error of its own, net/http reads no more and
//     closes the connection: ErrEnhanceYourCalm ends a flooded connection
//     (TestNetHTTPClosesAfterAReadError).
//  7. net/http hands ConnState the net.Conn that Accept returned: GoAway and
//     IsHTTP2, given it (or a wrapper with a NetConn method), find the
//     guarded connection (TestNetHTTPGivesConnStateTheAcceptedConn).
//  8. net/http has no budget of its own for cheap frames (20,000 PINGs
//     answered on one connection): the guard's reason to exist, and why its
//     budgets are the ones that trip (TestNetHTTPHasNoBudgetForCheapFrames).
package h2guard
