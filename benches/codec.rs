//! Codec throughput: checksum, TCP framing, record parsing.
//!
//! Run with short measurement times to keep the machine usable:
//! `cargo bench --bench codec -- --warm-up-time 1 --measurement-time 3`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use bytes::BytesMut;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tokio_util::codec::Decoder;
use zkproto::terminal::checksum::{checksum, checksum_reference};
use zkproto::terminal::codec::TcpCodec;
use zkproto::terminal::frame::{TcpFraming, encode_tcp};
use zkproto::terminal::record::attendance::{
    Attendance, AttendanceLayout, iter_attendance, parse_attendance,
};
use zkproto::terminal::record::event::{AttendanceEvent, Event};
use zkproto::terminal::record::text::TextEncoding;
use zkproto::terminal::record::time::DeviceTime;
use zkproto::terminal::record::user::{User, UserLayout, encode_users, parse_users};
use zkproto::terminal::{ChecksumMode, Command, Packet};

/// Candidate replacement for `checksum::fold_sum`: 32-bit little-endian
/// lanes summed into a u64 (a plain loop the compiler vectorises). Sound
/// because 2^16 ≡ 1 (mod 0xFFFF): the folded sum of 32-bit words equals the
/// folded sum of their 16-bit halves, and both are zero only for all-zero
/// input. No overflow below 2^32 words (16 GiB).
fn fold_sum_lanes32(initial: u32, data: &[u8]) -> u32 {
    let mut sum = u64::from(initial);
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        sum += u64::from(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
    }
    let mut tail = [0u8; 4];
    for (d, s) in tail.iter_mut().zip(words.remainder()) {
        *d = *s;
    }
    sum += u64::from(u32::from_le_bytes(tail));
    while sum >> 16 != 0 {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum as u32
}

/// Second candidate: four u64 accumulators with end-around carry
/// (2^64 ≡ 1 mod 0xFFFF), 32 bytes per iteration.
fn fold_sum_adc64(initial: u32, data: &[u8]) -> u32 {
    let mut acc = [u64::from(initial), 0, 0, 0];
    let mut blocks = data.chunks_exact(32);
    for b in &mut blocks {
        for (a, w) in acc.iter_mut().zip(b.chunks_exact(8)) {
            let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
            let (s, carry) = a.overflowing_add(w);
            *a = s + u64::from(carry);
        }
    }
    let mut tail = [0u8; 32];
    for (d, s) in tail.iter_mut().zip(blocks.remainder()) {
        *d = *s;
    }
    for (a, w) in acc.iter_mut().zip(tail.chunks_exact(8)) {
        let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        let (s, carry) = a.overflowing_add(w);
        *a = s + u64::from(carry);
    }
    let mut sum: u128 = acc.iter().map(|&a| u128::from(a)).sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum as u32
}

fn finish(folded: u32) -> u16 {
    !(folded as u16)
}

fn data(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3])
        .collect()
}

fn bench_checksum(c: &mut Criterion) {
    // The candidates must agree with the reference before being timed.
    for len in [0, 1, 7, 8, 31, 33, 1023, 1024, 65_536, 65_537] {
        let d = data(len);
        assert_eq!(
            finish(fold_sum_lanes32(0, &d)),
            checksum_reference(&d),
            "lanes32 len {len}"
        );
        assert_eq!(
            finish(fold_sum_adc64(0, &d)),
            checksum_reference(&d),
            "adc64 len {len}"
        );
        let ff = vec![0xFF; len];
        assert_eq!(finish(fold_sum_lanes32(0, &ff)), checksum_reference(&ff));
        assert_eq!(finish(fold_sum_adc64(0, &ff)), checksum_reference(&ff));
    }
    let mut g = c.benchmark_group("checksum");
    for len in [8usize, 1024, 65_536] {
        let d = data(len);
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_with_input(BenchmarkId::new("crate", len), &d, |b, d| {
            b.iter(|| checksum(black_box(d)))
        });
        g.bench_with_input(BenchmarkId::new("reference", len), &d, |b, d| {
            b.iter(|| checksum_reference(black_box(d)))
        });
        g.bench_with_input(BenchmarkId::new("candidate_lanes32", len), &d, |b, d| {
            b.iter(|| finish(fold_sum_lanes32(0, black_box(d))))
        });
        g.bench_with_input(BenchmarkId::new("candidate_adc64", len), &d, |b, d| {
            b.iter(|| finish(fold_sum_adc64(0, black_box(d))))
        });
    }
    g.finish();
}

/// `count` TCP frames with `data_len` bytes of data each, back to back.
fn stream(count: usize, data_len: usize) -> BytesMut {
    let mut out = BytesMut::new();
    let payload = data(data_len);
    for i in 0..count {
        let p = Packet::new(Command::Data, 0x45CF, i as u16, payload.clone());
        encode_tcp(&p, &mut out);
    }
    out
}

fn bench_tcp(c: &mut Criterion) {
    const FRAMES: usize = 1000;
    for (name, data_len) in [("header_only", 0usize), ("data_1k", 1024)] {
        let wire = stream(FRAMES, data_len);
        let mut g = c.benchmark_group(format!("tcp_decode_{name}"));
        if data_len == 0 {
            g.throughput(Throughput::Elements(FRAMES as u64));
        } else {
            g.throughput(Throughput::Bytes(wire.len() as u64));
        }
        // Pure framing over one large buffer (no copy of the input).
        g.bench_function("framing_large_buffer", |b| {
            let f = TcpFraming::default();
            b.iter(|| {
                let mut rest = &wire[..];
                let mut n = 0;
                while let Some((p, used)) = f.decode(rest, ChecksumMode::Strict).unwrap() {
                    black_box(&p);
                    rest = &rest[used..];
                    n += 1;
                }
                assert_eq!(n, FRAMES);
            })
        });
        // tokio-util codec over one large buffer (zero-copy split of a BytesMut).
        g.bench_function("codec_large_buffer", |b| {
            b.iter_batched(
                || wire.clone(),
                |mut buf| {
                    let mut codec = TcpCodec::default();
                    let mut n = 0;
                    while let Some(p) = codec.decode(&mut buf).unwrap() {
                        black_box(&p);
                        n += 1;
                    }
                    assert_eq!(n, FRAMES);
                },
                criterion::BatchSize::LargeInput,
            )
        });
        // tokio-util codec fed 1,500-byte reads, as from a socket.
        g.bench_function("codec_1500_byte_chunks", |b| {
            b.iter(|| {
                let mut codec = TcpCodec::default();
                let mut buf = BytesMut::with_capacity(4096);
                let mut n = 0;
                for chunk in wire.chunks(1500) {
                    buf.extend_from_slice(chunk);
                    while let Some(p) = codec.decode(&mut buf).unwrap() {
                        black_box(&p);
                        n += 1;
                    }
                }
                assert_eq!(n, FRAMES);
            })
        });
        g.finish();

        let mut g = c.benchmark_group(format!("tcp_encode_{name}"));
        let payload = bytes::Bytes::from(data(data_len));
        let packets: Vec<Packet> = (0..FRAMES)
            .map(|i| Packet::new(Command::Data, 0x45CF, i as u16, payload.clone()))
            .collect();
        if data_len == 0 {
            g.throughput(Throughput::Elements(FRAMES as u64));
        } else {
            g.throughput(Throughput::Bytes(wire.len() as u64));
        }
        g.bench_function("encode_tcp", |b| {
            let mut out = BytesMut::with_capacity(wire.len());
            b.iter(|| {
                out.clear();
                for p in &packets {
                    encode_tcp(p, &mut out);
                }
                black_box(&out);
            })
        });
        g.finish();
    }
}

fn bench_records(c: &mut Criterion) {
    const N: usize = 10_000;
    let t = DeviceTime::new(2024, 3, 14, 9, 26, 53);
    let enc = TextEncoding::Utf8;

    let mut g = c.benchmark_group("user_records");
    g.throughput(Throughput::Elements(N as u64));
    for layout in [UserLayout::Compact28, UserLayout::Extended72] {
        let users: Vec<User> = (0..N)
            .map(|i| User::new(layout, i as u16, &(1000 + i).to_string(), enc).unwrap())
            .collect();
        let table = encode_users(&users);
        let records = &table[4..];
        g.bench_function(BenchmarkId::new("parse", layout.record_len()), |b| {
            b.iter(|| black_box(parse_users(black_box(records), layout).unwrap()))
        });
        g.bench_function(BenchmarkId::new("encode", layout.record_len()), |b| {
            b.iter(|| black_box(encode_users(black_box(&users))))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("attendance_records");
    g.throughput(Throughput::Elements(N as u64));
    for layout in [AttendanceLayout::Extended16, AttendanceLayout::Tft40] {
        let mut records = BytesMut::new();
        for i in 0..N {
            let a = Attendance::new(layout, i as u16, &(1000 + i % 500).to_string(), 1, 0, t, 0)
                .unwrap();
            a.encode_into(&mut records).unwrap();
        }
        g.bench_function(BenchmarkId::new("parse_vec", layout.record_len()), |b| {
            b.iter(|| black_box(parse_attendance(black_box(&records), layout).unwrap()))
        });
        g.bench_function(BenchmarkId::new("iter_fold", layout.record_len()), |b| {
            b.iter(|| {
                iter_attendance(black_box(&records), layout)
                    .unwrap()
                    .fold(0u32, |acc, a| {
                        acc.wrapping_add(u32::from(a.verify))
                            .wrapping_add(u32::from(a.time.second))
                    })
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("realtime_event");
    let ev = Event::Attendance(AttendanceEvent::new("999111333", 1, 0, t))
        .to_packet(0)
        .unwrap();
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse_attlog_32", |b| {
        b.iter(|| black_box(Event::parse(black_box(ev.session_id), black_box(&ev.data))))
    });
    g.finish();
}

criterion_group!(benches, bench_checksum, bench_tcp, bench_records);
criterion_main!(benches);
