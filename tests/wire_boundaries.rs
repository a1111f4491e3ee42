//! Boundary behaviour of the sans-IO wire layer that no other test pins down:
//! the exact `needed` counts of incomplete frames, length limits exactly at
//! and one past the maximum, the UDP "this is a C3 panel" test, the folding
//! done by [`finish`], and the comm-key accessors.
//!
//! These were found by mutation testing (`scripts/mutants.sh`): each test
//! asserts a documented behaviour that a plausible off-by-one or inverted
//! condition would break.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use bytes::BytesMut;
use zkproto::terminal::checksum::{checksum, checksum_reference, finish, fold_sum};
use zkproto::terminal::commkey::{CommKey, check_key, make_key};
use zkproto::terminal::frame::{
    DEFAULT_MAX_PACKET, MAX_SERIAL_PACKET, Peek, SERIAL_HEADER_LEN, SerialFraming, TCP_HEADER_LEN,
    TagCheck, TcpFraming, decode_udp, encode_serial, encode_tcp,
};
use zkproto::terminal::packet::hex;
use zkproto::terminal::{ChecksumMode, EncodeError, Packet, WireError};

/// A TCP frame carrying `data_len` data bytes.
fn tcp_frame_with(data_len: usize) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode_tcp(&Packet::new(1000u16, 0, 0, vec![0x5A; data_len]), &mut out);
    out.to_vec()
}

/// A serial frame for device 1 carrying `data_len` data bytes.
fn serial_frame_with(data_len: usize) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode_serial(
        1,
        &Packet::new(1000u16, 0, 0, vec![0x5A; data_len]),
        &mut out,
    )
    .unwrap();
    out.to_vec()
}

/// A bare envelope announcing an inner packet of `len` bytes.
fn tcp_envelope(len: u32) -> [u8; 8] {
    let l = len.to_le_bytes();
    [0x50, 0x50, 0x82, 0x7d, l[0], l[1], l[2], l[3]]
}

// ---------------------------------------------------------------- checksum

#[test]
fn finish_folds_carries_before_complementing() {
    // 0x1_0000 folds to 0x0001, whose complement is 0xFFFE.
    assert_eq!(finish(0x1_0000), 0xFFFE);
    // Two rounds of folding: 0xFFFF_FFFF → 0x1_FFFE → 0xFFFF → complement 0.
    assert_eq!(finish(0xFFFF_FFFF), 0x0000);
    assert_eq!(finish(0x0002_0003), !0x0005);
    // Already folded values are only complemented.
    assert_eq!(finish(0), 0xFFFF);
    assert_eq!(finish(0x1234), !0x1234);
}

#[test]
fn fold_sum_continues_from_an_initial_value_and_folds_fully() {
    // Summing in pieces gives the same checksum as summing at once, for
    // splits at even offsets (the documented way to avoid copying).
    let data: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37) ^ 0xC3).collect();
    for split in (0..=data.len()).step_by(2) {
        let (a, b) = data.split_at(split);
        assert_eq!(
            finish(fold_sum(fold_sum(0, a), b)),
            checksum(&data),
            "split {split}"
        );
    }
    // The result always fits 16 bits, even from a large initial value.
    assert!(fold_sum(0xFFFF_FFFF, &[0xFF; 40]) <= 0xFFFF);
    assert_eq!(
        finish(fold_sum(0xFFFF_FFFF, &[])),
        finish(0xFFFF_FFFF),
        "an initial value is folded like a sum"
    );
}

#[test]
fn checksum_of_all_ones_input_matches_reference_for_every_alignment() {
    // All-0xFF words make every carry path fire (lane sums, pair sums, the
    // odd trailing byte and the final folds).
    for n in 0..=40 {
        let ff = vec![0xFFu8; n];
        assert_eq!(checksum(&ff), checksum_reference(&ff), "len {n}");
    }
    assert_eq!(checksum(&[0xFF, 0xFF]), 0x0000);
    assert_eq!(checksum(&[0xFF]), 0xFF00);
}

// ----------------------------------------------------------------- commkey

#[test]
fn commkey_accessors_and_redacted_debug() {
    assert_eq!(CommKey::new(123_456).expose(), 123_456);
    assert_eq!(CommKey::new(u32::MAX).expose(), u32::MAX);
    assert!(CommKey::new(0).is_zero());
    assert!(CommKey::default().is_zero());
    assert!(!CommKey::new(1).is_zero());
    assert!(!CommKey::new(0x8000_0000).is_zero());
    let shown = format!("{:?}", CommKey::new(987_654));
    assert_eq!(shown, "CommKey(***)");
    assert!(!shown.contains("987"));
    // `{:#?}` goes through the same impl.
    assert_eq!(format!("{:#?}", CommKey::new(5)), "CommKey(***)");
}

#[test]
fn check_key_needs_all_three_key_bytes() {
    let key = CommKey::new(45);
    let good = make_key(key, 0x45CF, 0x32);
    assert!(check_key(&good, key, 0x45CF));
    for i in [0usize, 1, 3] {
        let mut bad = good;
        bad[i] ^= 0x01;
        assert!(!check_key(&bad, key, 0x45CF), "byte {i} altered");
    }
    // The session id's high byte lands in a checked byte (its low byte
    // only in the tick byte, which the device does not check).
    assert!(!check_key(&good, key, 0x46CF));
    assert!(!check_key(&[], key, 0x45CF));
}

// ------------------------------------------------------------------ packet

#[test]
fn hex_is_lowercase_two_digits_per_byte_without_separators() {
    assert_eq!(hex(&[]), "");
    assert_eq!(hex(&[0x00, 0xAB, 0x7F, 0x05]), "00ab7f05");
}

// ------------------------------------------------------------- TCP framing

#[test]
fn tcp_incomplete_envelope_needs_the_rest_of_the_header() {
    let frame = tcp_frame_with(0);
    let f = TcpFraming::default();
    for have in 0..TCP_HEADER_LEN {
        assert_eq!(
            f.peek(&frame[..have]),
            Ok(Peek::Incomplete {
                needed: TCP_HEADER_LEN - have
            }),
            "have {have}"
        );
    }
}

#[test]
fn tcp_incomplete_packet_needs_exactly_the_missing_bytes() {
    let frame = tcp_frame_with(5);
    let total = frame.len();
    assert_eq!(total, TCP_HEADER_LEN + 8 + 5);
    let f = TcpFraming::default();
    for have in TCP_HEADER_LEN..total {
        assert_eq!(
            f.peek(&frame[..have]),
            Ok(Peek::Incomplete {
                needed: total - have
            }),
            "have {have}"
        );
        assert_eq!(f.decode(&frame[..have], ChecksumMode::Strict), Ok(None));
    }
    assert_eq!(f.peek(&frame), Ok(Peek::Complete { frame_len: total }));
    // Extra bytes after the frame are not part of it.
    let mut two = frame.clone();
    two.extend_from_slice(&frame);
    assert_eq!(f.peek(&two), Ok(Peek::Complete { frame_len: total }));
    let (p, used) = f.decode(&two, ChecksumMode::Strict).unwrap().unwrap();
    assert_eq!(used, total);
    assert_eq!(&p.data[..], &[0x5A; 5]);
}

#[test]
fn tcp_incomplete_with_lax_tag_check_counts_the_same() {
    let f = TcpFraming {
        tag_check: TagCheck::CommandOnly,
        ..TcpFraming::default()
    };
    let mut frame = tcp_frame_with(2);
    frame[0] = 0;
    frame[1] = 0;
    for have in 0..frame.len() {
        let needed = if have < TCP_HEADER_LEN {
            TCP_HEADER_LEN - have
        } else {
            frame.len() - have
        };
        assert_eq!(
            f.peek(&frame[..have]),
            Ok(Peek::Incomplete { needed }),
            "have {have}"
        );
    }
    assert_eq!(
        f.peek(&frame),
        Ok(Peek::Complete {
            frame_len: frame.len()
        })
    );
}

#[test]
fn tcp_length_exactly_at_the_limit_is_accepted_and_one_above_refused() {
    for max in [8usize, 9, 100, 1032] {
        let f = TcpFraming::with_max_packet(max);
        let at = tcp_envelope(max as u32);
        assert_eq!(
            f.peek(&at),
            Ok(Peek::Incomplete { needed: max }),
            "max {max}"
        );
        let above = tcp_envelope(max as u32 + 1);
        assert_eq!(
            f.peek(&above),
            Err(WireError::TooLong {
                len: max as u64 + 1,
                max
            }),
            "max {max}"
        );
    }
    // A whole frame at the limit decodes.
    let frame = tcp_frame_with(24);
    let f = TcpFraming::with_max_packet(32);
    assert!(f.decode(&frame, ChecksumMode::Strict).unwrap().is_some());
    let f = TcpFraming::with_max_packet(31);
    assert_eq!(
        f.decode(&frame, ChecksumMode::Strict),
        Err(WireError::TooLong { len: 32, max: 31 })
    );
    // The default limit.
    let f = TcpFraming::default();
    assert_eq!(
        f.peek(&tcp_envelope(DEFAULT_MAX_PACKET as u32)),
        Ok(Peek::Incomplete {
            needed: DEFAULT_MAX_PACKET
        })
    );
    assert!(matches!(
        f.peek(&tcp_envelope(DEFAULT_MAX_PACKET as u32 + 1)),
        Err(WireError::TooLong { .. })
    ));
}

#[test]
fn tcp_packet_shorter_than_a_header_is_refused_and_a_bare_header_accepted() {
    let f = TcpFraming::default();
    assert_eq!(f.peek(&tcp_envelope(8)), Ok(Peek::Incomplete { needed: 8 }));
    assert_eq!(
        f.peek(&tcp_envelope(7)),
        Err(WireError::Truncated {
            what: "TCP frame packet",
            need: 8,
            got: 7
        })
    );
    assert!(matches!(
        f.peek(&tcp_envelope(0)),
        Err(WireError::Truncated { got: 0, .. })
    ));
}

#[test]
fn tcp_bad_magic_in_a_whole_envelope_is_refused() {
    let f = TcpFraming::default();
    let mut env = tcp_envelope(8);
    env[1] = 0x51;
    assert_eq!(
        f.peek(&env),
        Err(WireError::BadMagic {
            found: [0x50, 0x51, 0x82, 0x7d]
        })
    );
    // The first wrong byte is reported as soon as it arrives.
    assert_eq!(
        f.peek(&[0x50, 0x50, 0x83]),
        Err(WireError::BadMagic {
            found: [0x50, 0x50, 0x83, 0]
        })
    );
    // The lax check ignores the first two bytes only.
    let lax = TcpFraming {
        tag_check: TagCheck::CommandOnly,
        ..f
    };
    assert!(matches!(
        lax.peek(&[0x50, 0x50, 0x82, 0x7e]),
        Err(WireError::BadMagic { .. })
    ));
    assert_eq!(
        lax.peek(&[0x11, 0x22, 0x82, 0x7d, 8, 0, 0, 0]),
        Ok(Peek::Incomplete { needed: 8 })
    );
}

// ------------------------------------------------------------- UDP framing

#[test]
fn udp_c3_detection_needs_both_the_start_and_the_end_byte() {
    // A terminal packet whose first byte is 0xAA (command 0x03AA) is still a
    // terminal packet when it does not end with 0x55.
    let starts = Packet::new(0x03AAu16, 0, 0, &[1u8, 2][..]).to_bytes();
    assert_eq!(starts[0], 0xAA);
    assert_eq!(
        decode_udp(&starts, ChecksumMode::Strict).unwrap().code,
        0x03AA
    );
    // One that ends with 0x55 but starts otherwise, likewise.
    let ends = Packet::new(1000u16, 0, 0, &[1u8, 0x55][..]).to_bytes();
    assert_eq!(ends.last(), Some(&0x55));
    assert_eq!(
        decode_udp(&ends, ChecksumMode::Strict).unwrap().data[..],
        [1, 0x55]
    );
    // Both: a C3 frame (§C3: 0xAA … 0x55).
    let both = Packet::new(0x03AAu16, 0, 0, &[1u8, 0x55][..]).to_bytes();
    assert_eq!(
        decode_udp(&both, ChecksumMode::Strict),
        Err(WireError::LooksLikeC3Panel)
    );
    let c3 = [0xAA, 0x01, 0x76, 0x00, 0x00, 0x00, 0x00, 0x55];
    assert_eq!(
        decode_udp(&c3, ChecksumMode::Lenient),
        Err(WireError::LooksLikeC3Panel)
    );
}

// ---------------------------------------------------------- serial framing

#[test]
fn serial_incomplete_counts() {
    let frame = serial_frame_with(3);
    let total = frame.len();
    assert_eq!(total, SERIAL_HEADER_LEN + 8 + 3);
    let f = SerialFraming::default();
    for have in 0..total {
        let needed = if have < SERIAL_HEADER_LEN {
            SERIAL_HEADER_LEN - have
        } else {
            total - have
        };
        assert_eq!(
            f.peek(&frame[..have]),
            Ok(Peek::Incomplete { needed }),
            "have {have}"
        );
        assert_eq!(f.decode(&frame[..have], ChecksumMode::Strict), Ok(None));
    }
    assert_eq!(f.peek(&frame), Ok(Peek::Complete { frame_len: total }));
}

#[test]
fn serial_encode_exactly_at_the_limit_and_one_above() {
    let data_max = MAX_SERIAL_PACKET - 8;
    let frame = serial_frame_with(data_max);
    assert_eq!(frame.len(), SERIAL_HEADER_LEN + MAX_SERIAL_PACKET);
    assert_eq!(
        u16::from_le_bytes([frame[4], frame[5]]) as usize,
        MAX_SERIAL_PACKET
    );
    let (got, used) = SerialFraming::default()
        .decode(&frame, ChecksumMode::Strict)
        .unwrap()
        .unwrap();
    assert_eq!(used, frame.len());
    assert_eq!(got.unwrap().packet.data.len(), data_max);

    let mut out = BytesMut::from(&b"keep"[..]);
    let too_big = Packet::new(1000u16, 0, 0, vec![0u8; data_max + 1]);
    assert_eq!(
        encode_serial(1, &too_big, &mut out),
        Err(EncodeError::PayloadTooLarge {
            len: MAX_SERIAL_PACKET + 1,
            max: MAX_SERIAL_PACKET
        })
    );
    assert_eq!(&out[..], b"keep", "nothing is written on failure");
}

#[test]
fn serial_length_limit_in_peek() {
    let frame = serial_frame_with(12); // inner packet of 20 bytes
    let at = SerialFraming {
        max_packet: 20,
        ..SerialFraming::default()
    };
    assert_eq!(
        at.peek(&frame),
        Ok(Peek::Complete {
            frame_len: frame.len()
        })
    );
    let below = SerialFraming {
        max_packet: 19,
        ..SerialFraming::default()
    };
    assert_eq!(
        below.peek(&frame[..SERIAL_HEADER_LEN]),
        Err(WireError::TooLong { len: 20, max: 19 })
    );
    // An announced packet shorter than a header is refused; 8 is accepted.
    let mut head = frame[..SERIAL_HEADER_LEN].to_vec();
    head[4] = 7;
    head[5] = 0;
    assert_eq!(
        SerialFraming::default().peek(&head),
        Err(WireError::Truncated {
            what: "serial frame packet",
            need: 8,
            got: 7
        })
    );
    head[4] = 8;
    assert_eq!(
        SerialFraming::default().peek(&head),
        Ok(Peek::Incomplete { needed: 8 })
    );
}

#[test]
fn serial_header_bytes_are_checked_one_by_one() {
    let frame = serial_frame_with(0);
    let f = SerialFraming::default();
    let cases: [(usize, u8); 3] = [(1, 2), (2, 0x82), (3, 0x7f)];
    for (offset, value) in cases {
        let mut bad = frame.clone();
        bad[offset] = value;
        match f.peek(&bad[..=offset]) {
            Err(WireError::BadSerialHeader { offset: o, .. }) => assert_eq!(o, offset),
            other => panic!("offset {offset}: {other:?}"),
        }
    }
    // The lenient mode accepts a bad frame checksum; strict refuses it.
    let mut bad_sum = frame.clone();
    bad_sum[6] ^= 0xFF;
    assert!(matches!(
        f.decode(&bad_sum, ChecksumMode::Strict),
        Err(WireError::ChecksumMismatch { .. })
    ));
    let lenient = SerialFraming {
        checksum: ChecksumMode::Lenient,
        ..f
    };
    let (got, used) = lenient
        .decode(&bad_sum, ChecksumMode::Strict)
        .unwrap()
        .unwrap();
    assert_eq!(used, bad_sum.len());
    assert_eq!(got.unwrap().device_id, 1);
}
