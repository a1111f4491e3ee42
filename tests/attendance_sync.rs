//! Incremental attendance sync against the simulator: only the tail is
//! transferred, broken downloads resume exactly once, discontinuities are
//! reported, and the safe clear never loses a punch.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use zkproto::terminal::client::{
    AttendanceSync, ClearOutcome, Client, LogChange, OnDiscontinuity, Options, SyncOutcome,
    Transport,
};
use zkproto::terminal::record::attendance::Attendance;
use zkproto::terminal::sim::{Fault, Pacing, Profile, SimConfig, Simulator};
use zkproto::terminal::sync::{Discontinuity, SyncCursor};

/// The client's end of a connection to the simulator: counts and records
/// the bytes the device sent, and can cut the connection (EOF, writes
/// refused) after `cut` bytes, wherever that falls in a frame.
struct Tap {
    io: DuplexStream,
    read: Arc<AtomicU64>,
    transcript: Option<Arc<Mutex<Vec<u8>>>>,
    cut: Option<u64>,
}

impl AsyncRead for Tap {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let done = self.read.load(Ordering::Relaxed);
        let room = match self.cut {
            Some(c) if done >= c => return Poll::Ready(Ok(())),
            Some(c) => usize::try_from(c - done).unwrap().min(buf.remaining()),
            None => buf.remaining(),
        };
        let mut limited = ReadBuf::new(buf.initialize_unfilled_to(room));
        let r = Pin::new(&mut self.io).poll_read(cx, &mut limited);
        let n = limited.filled().len();
        if let Some(t) = &self.transcript {
            t.lock().unwrap().extend_from_slice(limited.filled());
        }
        buf.advance(n);
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        r
    }
}

impl AsyncWrite for Tap {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self
            .cut
            .is_some_and(|c| self.read.load(Ordering::Relaxed) >= c)
        {
            return Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into()));
        }
        Pin::new(&mut self.io).poll_write(cx, data)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

fn sim(profile: Profile, users: usize, attendance: usize) -> Simulator {
    Simulator::new(SimConfig {
        profile,
        users,
        attendance,
        pacing: Some(Pacing::None),
        ..SimConfig::default()
    })
}

fn opts() -> Options {
    Options::new()
        .timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_secs(2))
}

/// Connects over an in-memory stream served by `sim`.
async fn connect(
    sim: &Simulator,
    o: Options,
    cut: Option<u64>,
    transcript: Option<Arc<Mutex<Vec<u8>>>>,
) -> (Client, Arc<AtomicU64>) {
    let (a, b) = tokio::io::duplex(256 * 1024);
    let s = sim.clone();
    tokio::spawn(async move { s.serve_stream(b).await });
    let read = Arc::new(AtomicU64::new(0));
    let tap = Tap {
        io: a,
        read: read.clone(),
        transcript,
        cut,
    };
    let c = Client::attach(tap, o).await.expect("connect");
    (c, read)
}

fn punch_n(sim: &Simulator, n: usize) {
    let users = sim.users();
    for i in 0..n {
        sim.punch(
            &users[i % users.len()].user_id(sim.encoding()),
            1,
            (i % 2) as u8,
        );
    }
}

/// The cursor a client holds after seeing the first `n` of `records`.
fn cursor_after(records: &[Attendance], n: usize) -> SyncCursor {
    let len = records[0].layout().record_len();
    let tail: Vec<u8> = records[n.saturating_sub(2)..n]
        .iter()
        .flat_map(|a| a.to_bytes().unwrap().to_vec())
        .collect();
    SyncCursor::from_parts(n as u32, len, tail).unwrap()
}

#[tokio::test]
async fn only_the_new_tail_is_transferred() {
    let sim = sim(Profile::zk8(), 20, 100_000);
    let old = sim.attendance();
    assert_eq!(old.len(), 100_000);
    let cursor = cursor_after(&old, old.len());
    punch_n(&sim, 100);
    let (mut c, wire) = connect(&sim, opts(), None, None).await;
    let before = wire.load(Ordering::Relaxed);
    let batch = c.attendance_since(&cursor).await.unwrap();
    let bytes = wire.load(Ordering::Relaxed) - before;
    assert_eq!(batch.outcome, SyncOutcome::Continued);
    assert_eq!(batch.records, sim.attendance()[100_000..].to_vec());
    assert_eq!(batch.cursor.records(), 100_100);
    // 102 records of 40 bytes and a few frames: a few KB, not 4 MB.
    assert!(bytes < 8 * 1024, "{bytes} bytes on the wire");
    assert!(bytes > 100 * 40, "{bytes} bytes on the wire");
    // Nothing new: only the two known records are read again.
    let (mut c, wire) = connect(&sim, opts(), None, None).await;
    let mut sync = AttendanceSync::new(batch.cursor.clone());
    let before = wire.load(Ordering::Relaxed);
    assert_eq!(
        c.sync_attendance(&mut sync).await.unwrap(),
        SyncOutcome::Continued
    );
    assert!(sync.records().is_empty());
    assert_eq!(sync.bytes_read(), 80);
    assert!(wire.load(Ordering::Relaxed) - before < 1024);
    assert_eq!(sync.cursor(), &batch.cursor);
}

#[tokio::test]
async fn full_then_incremental_over_tcp_and_udp() {
    for (t, profile) in [
        (Transport::Tcp, Profile::zk8()),
        (Transport::Udp, Profile::zk6()),
        (Transport::Tcp, Profile::zk8_1008()),
    ] {
        let sim = sim(profile, 10, 700);
        let server = sim
            .serve(
                Some("127.0.0.1:0".parse().unwrap()),
                Some("127.0.0.1:0".parse().unwrap()),
            )
            .await
            .unwrap();
        let addr = match t {
            Transport::Udp => server.udp_addr().unwrap(),
            _ => server.tcp_addr().unwrap(),
        };
        let mut c = Client::connect(addr, opts().transport(t).chunk_size(3000))
            .await
            .unwrap();
        let first = c.attendance_since(&SyncCursor::new()).await.unwrap();
        assert_eq!(first.records, sim.attendance(), "{t:?}");
        assert_eq!(first.records, c.attendance().await.unwrap().records);
        for new in [1, 0, 2, 40] {
            let before = sim.attendance().len();
            punch_n(&sim, new);
            let cursor = cursor_after(&sim.attendance(), before);
            let b = c.attendance_since(&cursor).await.unwrap();
            assert_eq!(b.outcome, SyncOutcome::Continued);
            assert_eq!(
                b.records,
                sim.attendance()[before..].to_vec(),
                "{t:?} {new}"
            );
            assert_eq!(b.cursor, cursor_after(&sim.attendance(), before + new));
        }
        c.disconnect().await.unwrap();
        server.shutdown().await;
    }
}

#[tokio::test]
async fn small_logs_sent_whole_are_cut_at_the_cursor() {
    // A buffer of at most 1024 bytes comes back whole in the 1503 reply.
    let sim = sim(Profile::zk8(), 3, 10);
    let (mut c, _) = connect(&sim, opts(), None, None).await;
    let all = sim.attendance();
    for seen in [1, 2, 7, 10] {
        let b = c.attendance_since(&cursor_after(&all, seen)).await.unwrap();
        assert_eq!(b.outcome, SyncOutcome::Continued);
        assert_eq!(b.records, all[seen..].to_vec(), "{seen}");
        assert_eq!(b.cursor, cursor_after(&all, 10));
    }
    assert!(
        !sim.commands()
            .contains(&zkproto::terminal::Command::ReadBuffer)
    );
    // A changed known record is caught in a direct reply too.
    let mut other = all.clone();
    other[6].state ^= 1;
    let b = c.attendance_since(&cursor_after(&other, 8)).await.unwrap();
    assert_eq!(
        b.outcome,
        SyncOutcome::Restarted {
            reason: Discontinuity::Mismatch { index: 6 },
            from: 0
        }
    );
    assert_eq!(b.records, all);
}

#[tokio::test]
async fn announced_sizes_are_cross_checked_on_tail_reads() {
    let sim = sim(Profile::zk8(), 3, 60);
    let all = sim.attendance();
    let cursor = cursor_after(&all, 50);
    let (mut c, _) = connect(&sim, opts(), None, None).await;
    // A size that fits no layout for 60 records: the table is refused.
    sim.set_fault(Fault::AnnounceSize(4 + 60 * 40 + 8));
    let mut sync = AttendanceSync::new(cursor.clone());
    let e = c.sync_attendance(&mut sync).await.unwrap_err();
    assert!(
        matches!(
            e,
            zkproto::terminal::client::Error::TableMismatch {
                device_count: 60,
                ..
            }
        ),
        "{e}"
    );
    assert!(sync.records().is_empty());
    assert_eq!(sync.cursor(), &cursor);
    // A size of 49-byte records: another layout, so the log is read whole.
    sim.set_fault(Fault::AnnounceSize(4 + 60 * 49));
    let b = c.attendance_since(&cursor).await.unwrap();
    assert_eq!(
        b.outcome,
        SyncOutcome::Restarted {
            reason: Discontinuity::LayoutChanged {
                had: 40,
                now: Some(49)
            },
            from: 0
        }
    );
    assert_eq!(b.records, all);
}

/// Frame boundaries (end offsets) of a TCP transcript.
fn frame_ends(t: &[u8]) -> Vec<u64> {
    let mut ends = Vec::new();
    let mut at = 0usize;
    while at + 8 <= t.len() {
        assert_eq!(&t[at..at + 4], &[0x50, 0x50, 0x82, 0x7d]);
        let len = u32::from_le_bytes(t[at + 4..at + 8].try_into().unwrap()) as usize;
        at += 8 + len;
        ends.push(at as u64);
    }
    ends
}

/// Runs a sync of `sim`'s log from `start`, the first connections cut
/// after `cuts[i]` bytes, then uncut ones until it completes.
async fn sync_with_cuts(
    sim: &Simulator,
    start: &SyncCursor,
    cuts: &[u64],
    o: &Options,
) -> AttendanceSync {
    let mut sync = AttendanceSync::new(start.clone());
    let mut attempts = cuts.iter().map(|&c| Some(c)).chain(std::iter::repeat(None));
    for _ in 0..cuts.len() + 3 {
        let cut = attempts.next().unwrap();
        let (mut c, _) = connect(sim, o.clone(), cut, None).await;
        match c.sync_attendance(&mut sync).await {
            Ok(outcome) => {
                assert_eq!(outcome, SyncOutcome::Continued);
                return sync;
            }
            Err(e) => assert!(e.is_network(), "{e}"),
        }
    }
    panic!("the sync did not complete");
}

#[tokio::test]
async fn cut_anywhere_resumes_exactly_once() {
    let sim = sim(Profile::zk8(), 10, 150);
    let o = opts().chunk_size(1500);
    for start_at in [0usize, 40] {
        let all = sim.attendance();
        let start = if start_at == 0 {
            SyncCursor::new()
        } else {
            cursor_after(&all, start_at)
        };
        // The transcript of an uncut connection (connect included).
        let transcript = Arc::new(Mutex::new(Vec::new()));
        let (mut c, _) = connect(&sim, o.clone(), None, Some(transcript.clone())).await;
        let mut sync = AttendanceSync::new(start.clone());
        c.sync_attendance(&mut sync).await.unwrap();
        assert_eq!(sync.records(), &all[start_at..]);
        drop(c);
        let t = transcript.lock().unwrap().clone();
        let ends = frame_ends(&t);
        assert!(ends.len() > 10, "several chunks: {} frames", ends.len());
        // Every frame boundary, a byte either side, and mid-frame.
        let mut cuts = Vec::new();
        let mut prev = 0;
        for &e in &ends[1..] {
            cuts.extend([e - 1, e, e + 1, (prev + e) / 2]);
            prev = e;
        }
        for &cut in &cuts {
            let sync = sync_with_cuts(&sim, &start, &[cut], &o).await;
            assert_eq!(sync.records(), &all[start_at..], "cut at {cut}");
            assert_eq!(
                sync.cursor(),
                &cursor_after(&all, all.len()),
                "cut at {cut}"
            );
        }
        // Cut again while resuming.
        for pair in cuts.chunks(2).step_by(3) {
            let sync = sync_with_cuts(&sim, &start, pair, &o).await;
            assert_eq!(sync.records(), &all[start_at..], "cuts at {pair:?}");
        }
    }
}

#[tokio::test]
async fn close_mid_bulk_at_every_packet_resumes() {
    // 1008-byte burst packets: a 5000-byte chunk is 5 data packets.
    let sim = sim(Profile::zk8_1008(), 10, 400);
    let all = sim.attendance();
    let o = opts().chunk_size(5000);
    for start_at in [0usize, 120] {
        for after in 0..=5 {
            let start = if start_at == 0 {
                SyncCursor::new()
            } else {
                cursor_after(&all, start_at)
            };
            let mut sync = AttendanceSync::new(start);
            sim.set_fault(Fault::CloseMidBulk {
                after_data_packets: after,
            });
            let (mut c, _) = connect(&sim, o.clone(), None, None).await;
            let e = c.sync_attendance(&mut sync).await.unwrap_err();
            assert!(e.is_network(), "{e}");
            let got = sync.records().len();
            assert!(got < all.len() - start_at, "the first attempt broke");
            sim.clear_faults();
            let (mut c, _) = connect(&sim, o.clone(), None, None).await;
            assert_eq!(
                c.sync_attendance(&mut sync).await.unwrap(),
                SyncOutcome::Continued
            );
            assert_eq!(sync.records(), &all[start_at..], "after {after}");
        }
    }
}

#[tokio::test]
async fn resume_after_device_reboot() {
    let dir = tempfile::tempdir().unwrap();
    let config = SimConfig {
        profile: Profile::zk8_1008(),
        users: 5,
        attendance: 300,
        pacing: Some(Pacing::None),
        state_file: Some(dir.path().join("state.json")),
        ..SimConfig::default()
    };
    let before = Simulator::open(config.clone()).unwrap();
    let all = before.attendance();
    let mut sync = AttendanceSync::new(SyncCursor::new());
    before.set_fault(Fault::CloseMidBulk {
        after_data_packets: 3,
    });
    let (mut c, _) = connect(&before, opts().chunk_size(4000), None, None).await;
    assert!(c.sync_attendance(&mut sync).await.unwrap_err().is_network());
    assert!(!sync.records().is_empty() && sync.records().len() < all.len());
    drop(c);
    // The device restarts from its stored state.
    drop(before);
    let after = Simulator::open(config).unwrap();
    assert_eq!(after.attendance(), all);
    let (mut c, _) = connect(&after, opts().chunk_size(4000), None, None).await;
    assert_eq!(
        c.sync_attendance(&mut sync).await.unwrap(),
        SyncOutcome::Continued
    );
    assert_eq!(sync.records(), &all[..]);
}

#[tokio::test]
async fn a_changed_log_restarts_cleanly_or_stops() {
    let sim = sim(Profile::zk8(), 5, 60);
    let all = sim.attendance();
    let (mut c, _) = connect(&sim, opts(), None, None).await;
    let seen = c.attendance_since(&SyncCursor::new()).await.unwrap();
    assert_eq!(seen.records, all);

    // Cleared, then fewer punches than seen.
    c.clear_attendance().await.unwrap();
    punch_n(&sim, 3);
    let b = c.attendance_since(&seen.cursor).await.unwrap();
    assert_eq!(
        b.outcome,
        SyncOutcome::Restarted {
            reason: Discontinuity::Shrunk { had: 60, now: 3 },
            from: 0
        }
    );
    assert_eq!(b.records, sim.attendance());

    // Cleared and refilled past the old count: the known records differ.
    c.clear_attendance().await.unwrap();
    punch_n(&sim, 70);
    let b = c.attendance_since(&seen.cursor).await.unwrap();
    assert_eq!(
        b.outcome,
        SyncOutcome::Restarted {
            reason: Discontinuity::Mismatch { index: 58 },
            from: 0
        }
    );
    assert_eq!(b.records, sim.attendance());
    assert_eq!(b.cursor, cursor_after(&sim.attendance(), 70));

    // The Stop policy reports it and reads nothing.
    let mut sync = AttendanceSync::new(seen.cursor.clone()).on_discontinuity(OnDiscontinuity::Stop);
    let o = c.sync_attendance(&mut sync).await.unwrap();
    assert_eq!(
        o,
        SyncOutcome::Stopped(Discontinuity::Mismatch { index: 58 })
    );
    assert!(sync.records().is_empty());
    assert_eq!(sync.cursor(), &seen.cursor);

    // A broken download whose log changes before the resume restarts.
    let mut sync = AttendanceSync::new(SyncCursor::new());
    sim.set_fault(Fault::CloseMidBulk {
        after_data_packets: 1,
    });
    let (mut c1, _) = connect(&sim, opts().chunk_size(1200), None, None).await;
    assert!(c1.sync_attendance(&mut sync).await.is_err());
    let partial = sync.records().len();
    assert!(partial > 0);
    c.clear_attendance().await.unwrap();
    punch_n(&sim, 4);
    let (mut c2, _) = connect(&sim, opts().chunk_size(1200), None, None).await;
    let o = c2.sync_attendance(&mut sync).await.unwrap();
    assert!(
        matches!(o, SyncOutcome::Restarted { from, .. } if from == partial),
        "{o:?}"
    );
    assert_eq!(&sync.records()[partial..], &sim.attendance()[..]);
}

#[tokio::test]
async fn safe_clear_never_loses_a_punch() {
    let sim = sim(Profile::zk8(), 5, 200);
    let (mut c, _) = connect(&sim, opts(), None, None).await;

    // A punch lands while the archive is being written: nothing is cleared.
    let archived = Arc::new(Mutex::new(Vec::new()));
    let (a, s) = (archived.clone(), sim.clone());
    let o = c
        .clear_attendance_after(|batch| async move {
            a.lock().unwrap().extend(batch.records);
            punch_n(&s, 1);
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(
        o,
        ClearOutcome::Changed(LogChange::NewRecords {
            archived: 200,
            now: 201
        })
    );
    assert_eq!(sim.attendance().len(), 201, "nothing lost");
    assert_eq!(&archived.lock().unwrap()[..], &sim.attendance()[..200]);
    assert!(sim.is_enabled(), "re-enabled after the refusal");

    // The archive fails: nothing is cleared.
    let e = c
        .clear_attendance_after(|_| async { Err(std::io::Error::other("disk full")) })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("disk full"), "{e}");
    assert_eq!(sim.attendance().len(), 201);

    // Nothing changes: archived, then cleared.
    let all = sim.attendance();
    let archived = Arc::new(Mutex::new(Vec::new()));
    let a = archived.clone();
    let o = c
        .clear_attendance_after(|batch| async move {
            a.lock().unwrap().extend(batch.records);
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(o, ClearOutcome::Cleared { records: 201 });
    assert_eq!(*archived.lock().unwrap(), all);
    assert!(sim.attendance().is_empty());
    assert!(sim.is_enabled());

    // The log was replaced by as many other records: refused.
    punch_n(&sim, 3);
    let batch = c.attendance_since(&SyncCursor::new()).await.unwrap();
    c.clear_attendance().await.unwrap();
    let users = sim.users();
    for u in &users[..3] {
        sim.punch(&u.user_id(sim.encoding()), 15, 5); // other records, same count
    }
    let o = c
        .clear_attendance_if_unchanged(&batch.cursor)
        .await
        .unwrap();
    assert!(
        matches!(o, ClearOutcome::Changed(LogChange::Discontinued(_))),
        "{o:?}"
    );
    assert_eq!(sim.attendance().len(), 3);
}
