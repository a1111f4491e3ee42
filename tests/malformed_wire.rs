//! Malformed input at the wire layer: every case is a typed error, never a
//! panic, and a lying length is refused before anything is buffered.

use bytes::BytesMut;
use tokio_util::codec::Decoder;
use zkproto::terminal::codec::{CodecError, SerialCodec, TcpCodec, UdpCodec};
use zkproto::terminal::frame::{SerialFraming, TcpFraming};
use zkproto::terminal::{ChecksumMode, Packet, WireError};

fn tcp_err(bytes: &[u8]) -> WireError {
    match TcpCodec::default().decode(&mut BytesMut::from(bytes)) {
        Err(CodecError::Frame(e)) => e,
        other => panic!("expected a wire error, got {other:?}"),
    }
}

#[test]
fn wrong_magic() {
    assert_eq!(
        tcp_err(&[0x50, 0x50, 0x82, 0x7e, 8, 0, 0, 0]),
        WireError::BadMagic {
            found: [0x50, 0x50, 0x82, 0x7e]
        }
    );
    assert_eq!(
        tcp_err(b"HTTP/1.1 200 OK\r\n"),
        WireError::BadMagic { found: *b"HTTP" }
    );
    assert_eq!(
        tcp_err(&[0xaa, 0x01, 0xc8, 0x04, 0x00]),
        WireError::LooksLikeC3Panel
    );
}

#[test]
fn length_above_limit_is_refused_before_buffering() {
    let mut codec = TcpCodec::with_max_packet(4096);
    let mut buf = BytesMut::from(&[0x50, 0x50, 0x82, 0x7d, 0x01, 0x10, 0x00, 0x00][..]);
    match codec.decode(&mut buf) {
        Err(CodecError::Frame(WireError::TooLong {
            len: 4097,
            max: 4096,
        })) => {}
        other => panic!("{other:?}"),
    }
    // The decoder did not reserve anything near the claimed size.
    assert!(buf.capacity() < 4097);
    let mut huge = BytesMut::from(&[0x50, 0x50, 0x82, 0x7d, 0xff, 0xff, 0xff, 0xff][..]);
    assert!(TcpCodec::default().decode(&mut huge).is_err());
    assert!(huge.capacity() < 1 << 20);
}

#[test]
fn truncated_header_and_short_packets() {
    // Envelope announcing fewer than 8 bytes of packet.
    assert!(matches!(
        tcp_err(&[0x50, 0x50, 0x82, 0x7d, 7, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7]),
        WireError::Truncated { got: 7, .. }
    ));
    // UDP datagram shorter than a header.
    let mut d = BytesMut::from(&[0xe8, 0x03, 0x17][..]);
    assert!(matches!(
        UdpCodec::default().decode(&mut d),
        Err(CodecError::Frame(WireError::Truncated {
            need: 8,
            got: 3,
            ..
        }))
    ));
    // A partial frame is not an error: it waits for more bytes.
    let mut part = BytesMut::from(&[0x50, 0x50, 0x82][..]);
    assert!(TcpCodec::default().decode(&mut part).unwrap().is_none());
}

#[test]
fn odd_lengths_checksum_correctly() {
    for n in 0..64usize {
        let p = Packet::new(2000u16, 0x1234, 7, (0..n as u8).collect::<Vec<u8>>());
        let mut framing_buf = BytesMut::new();
        zkproto::terminal::frame::encode_tcp(&p, &mut framing_buf);
        let (q, used) = TcpFraming::default()
            .decode(&framing_buf, ChecksumMode::Strict)
            .unwrap()
            .unwrap();
        assert_eq!(used, framing_buf.len());
        assert_eq!(q, p);
    }
}

#[test]
fn corrupted_checksum_is_reported_with_evidence() {
    let mut frame = hex_frame();
    frame[10] ^= 0xff;
    match tcp_err(&frame) {
        WireError::ChecksumMismatch {
            what: "packet",
            expected: 0xE6B9,
            received,
        } => assert_eq!(received, 0xE6B9 ^ 0x00ff),
        e => panic!("{e:?}"),
    }
    // Lenient mode accepts it.
    let mut c = TcpCodec {
        checksum: ChecksumMode::Lenient,
        ..TcpCodec::default()
    };
    assert!(c.decode(&mut BytesMut::from(&frame[..])).unwrap().is_some());
}

fn hex_frame() -> Vec<u8> {
    vec![
        0x50, 0x50, 0x82, 0x7d, 0x12, 0, 0, 0, 0x0b, 0x00, 0xb9, 0xe6, 0xf3, 0x8d, 0x0c, 0x00,
        0x7e, 0x50, 0x6c, 0x61, 0x74, 0x66, 0x6f, 0x72, 0x6d, 0x00,
    ]
}

#[test]
fn serial_garbage_never_panics_and_oversize_is_refused() {
    let f = SerialFraming::default();
    assert!(matches!(
        f.peek(&[1, 1, 0x81, 0x7e, 0xff, 0xff]),
        Ok(_) | Err(_)
    ));
    assert!(matches!(
        f.peek(&[1, 1, 0x81, 0x7e, 0xff, 0xff, 0, 0]),
        Err(WireError::TooLong { len: 65535, .. })
    ));
    let mut codec = SerialCodec::default();
    let mut buf = BytesMut::from(&[0xde, 0xad, 0xbe, 0xef, 0x01, 0x01, 0x81][..]);
    assert!(codec.decode(&mut buf).unwrap().is_none());
}
