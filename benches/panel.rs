//! Panel (C3/inBio) throughput: CRC-16/ARC and frame decoding.
//!
//! Run with short measurement times to keep the machine usable:
//! `cargo bench --bench panel -- --warm-up-time 1 --measurement-time 3`.
//!
//! The crate's slice-by-16 table CRC (`panel::crc::crc16`) is measured next
//! to a plain bit-wise CRC-16/ARC written here as the baseline.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use bytes::BytesMut;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tokio_util::codec::Decoder;
use zkproto::panel::codec::PanelCodec;
use zkproto::panel::crc::crc16;
use zkproto::panel::{Command, Frame};

/// Bit-wise CRC-16/ARC (reflected polynomial 0xA001, init 0, no final xor).
fn crc16_bitwise(data: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in data {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 131 + 7) as u8).collect()
}

fn crc(c: &mut Criterion) {
    assert_eq!(crc16_bitwise(b"123456789"), 0xBB3D);
    let mut g = c.benchmark_group("panel_crc16");
    for len in [8usize, 1024, 64 * 1024] {
        let data = pattern(len);
        assert_eq!(crc16(&data), crc16_bitwise(&data));
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_with_input(BenchmarkId::new("slice16", len), &data, |b, d| {
            b.iter(|| crc16(black_box(d)))
        });
        g.bench_with_input(BenchmarkId::new("bitwise", len), &data, |b, d| {
            b.iter(|| crc16_bitwise(black_box(d)))
        });
    }
    g.finish();
}

/// A stream of `n` reply frames with 16-byte..~600-byte payloads (like
/// real-time log and table replies), and its total length.
fn frame_stream(n: usize) -> Vec<u8> {
    let mut out = BytesMut::new();
    for i in 0..n {
        let len = 16 + (i * 37) % 600;
        let mut data = vec![0u8; len];
        data[..4].copy_from_slice(&[0x17, 0x2a, (i & 0xff) as u8, (i >> 8) as u8]);
        data[4..].copy_from_slice(&pattern(len - 4));
        Frame::new(1, Command::AckOk, data)
            .encode_to(&mut out)
            .unwrap();
    }
    out.to_vec()
}

fn decode_all(stream: &[u8], chunk: usize) -> usize {
    let mut codec = PanelCodec::new();
    let mut buf = BytesMut::with_capacity(chunk.min(stream.len()) + 2048);
    let mut frames = 0;
    for piece in stream.chunks(chunk) {
        buf.extend_from_slice(piece);
        while let Some(f) = codec.decode(&mut buf).unwrap() {
            black_box(&f);
            frames += 1;
        }
    }
    frames
}

fn decode(c: &mut Criterion) {
    const FRAMES: usize = 2000;
    let stream = frame_stream(FRAMES);
    assert_eq!(decode_all(&stream, stream.len()), FRAMES);
    assert_eq!(decode_all(&stream, 1500), FRAMES);
    for (name, unit) in [
        ("bytes", Throughput::Bytes(stream.len() as u64)),
        ("elements", Throughput::Elements(FRAMES as u64)),
    ] {
        let mut g = c.benchmark_group(format!("panel_decode_{name}"));
        g.throughput(unit);
        g.bench_function("one_buffer", |b| {
            b.iter(|| decode_all(black_box(&stream), stream.len()))
        });
        g.bench_function("chunks_1500", |b| {
            b.iter(|| decode_all(black_box(&stream), 1500))
        });
        g.finish();
    }
}

criterion_group!(benches, crc, decode);
criterion_main!(benches);
