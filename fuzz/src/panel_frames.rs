//! The C3/inBio panel frame decoder (`panel::codec::PanelCodec`) and
//! `panel::Frame::{parse, decode, decode_bytes}` on arbitrary bytes.
//!
//! Input: `mode`, `n`, `n` chunk-size bytes, then the stream. `mode` bits
//! pick options: bit 0 an RS485 address filter (address from the next byte),
//! bit 1 a small data limit (256), bit 2 a small garbage limit (64).
//!
//! Properties: no panic; feeding the stream in chunks yields the same frames
//! from the same stream ranges (and the same error kind) as feeding it whole,
//! resynchronisation included; every decoded frame re-encodes to the bytes it
//! came from; `Frame::parse`, `Frame::decode` and `Frame::decode_bytes` agree
//! with each other and with re-encoding.

use crate::util::{Input, chunk_cuts};
use bytes::{Bytes, BytesMut};
use tokio_util::codec::Decoder;
use zkproto::panel::codec::{CodecError, PanelCodec};
use zkproto::panel::frame::{MAX_DATA, OVERHEAD, Peek, peek};
use zkproto::panel::{Frame, FrameError};

/// Runs the panel frame check on one fuzz input.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let mode = input.u8();
    let address = input.u8();
    let n = usize::from(input.u8() % 16);
    let sizes = input.take(n);
    let stream = input.rest();
    let cuts = chunk_cuts(stream.len(), sizes);
    let mut codec = PanelCodec::new();
    if mode & 1 != 0 {
        codec = PanelCodec::rs485(address);
    }
    let max_data = if mode & 2 != 0 { 256 } else { MAX_DATA };
    codec = codec.with_max_data(max_data);
    if mode & 4 != 0 {
        codec = codec.with_max_garbage(64);
    }
    let whole = run(codec, stream, &[0, stream.len()], max_data);
    let chunked = run(codec, stream, &cuts, max_data);
    // Resynchronising over an incomplete frame in favour of a later valid
    // one depends on what was buffered at the time; chunking invariance is
    // only promised when neither run did it.
    let comparable = whole.abandoned == 0 && chunked.abandoned == 0;
    if comparable {
        assert_eq!(
            chunked.frames, whole.frames,
            "panel codec: chunked stream decoded differently"
        );
        assert_eq!(
            chunked.spans, whole.spans,
            "panel codec: frame boundaries depend on chunking"
        );
        assert_eq!(
            chunked.error, whole.error,
            "panel codec: chunked stream failed differently"
        );
    }
    for (frame, &(a, b)) in whole.frames.iter().zip(&whole.spans) {
        let encoded = frame.to_bytes().expect("a decoded frame encodes");
        assert_eq!(
            &encoded[..],
            &stream[a..b],
            "panel codec: frame does not re-encode to its bytes"
        );
        if let Some(expected) = (mode & 1 != 0).then_some(address) {
            assert_eq!(frame.address, expected, "rs485 filter let a frame through");
        }
    }
    single(stream);
}

/// Decoded frames with the stream range each came from, and how decoding
/// stopped.
#[derive(Debug, PartialEq)]
struct Outcome {
    frames: Vec<Frame>,
    spans: Vec<(usize, usize)>,
    error: Option<String>,
    abandoned: u64,
}

fn error_kind(e: &CodecError) -> String {
    match e {
        // The skipped count depends on how much garbage each call saw at once.
        CodecError::Frame(FrameError::NoSync { .. }) => "NoSync".to_string(),
        CodecError::Frame(f) => format!("{f:?}"),
        other => format!("{other:?}"),
    }
}

/// Feeds `stream` in the pieces between `cuts`, decoding after each piece
/// until the decoder wants more or fails, then once at end of stream.
fn run(mut codec: PanelCodec, stream: &[u8], cuts: &[usize], max_data: usize) -> Outcome {
    let mut buf = BytesMut::new();
    let mut out = Outcome {
        frames: Vec::new(),
        spans: Vec::new(),
        error: None,
        abandoned: 0,
    };
    let mut consumed = 0usize;
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        buf.extend_from_slice(&stream[a..b]);
        loop {
            let before = buf.len();
            match codec.decode(&mut buf) {
                Ok(Some(f)) => {
                    // Skipped bytes come first; the frame is the tail of what was consumed.
                    consumed += before - buf.len();
                    let len = f.encoded_len();
                    out.spans.push((consumed - len, consumed));
                    out.frames.push(f);
                }
                Ok(None) => {
                    consumed += before - buf.len();
                    let bound = 2 * (buf.len() + max_data + OVERHEAD) + 64;
                    assert!(
                        buf.capacity() <= bound.max(2 * b + 64),
                        "panel codec reserved {} bytes with {} buffered (limit {max_data})",
                        buf.capacity(),
                        buf.len()
                    );
                    break;
                }
                Err(e) => {
                    out.error = Some(error_kind(&e));
                    out.abandoned = codec.abandoned();
                    return out;
                }
            }
        }
    }
    loop {
        let before = buf.len();
        match codec.decode_eof(&mut buf) {
            Ok(Some(f)) => {
                consumed += before - buf.len();
                let len = f.encoded_len();
                out.spans.push((consumed - len, consumed));
                out.frames.push(f);
            }
            Ok(None) => break,
            Err(e) => {
                out.error = Some(error_kind(&e));
                break;
            }
        }
    }
    out.abandoned = codec.abandoned();
    out
}

/// `Frame::parse`/`decode`/`decode_bytes` on the raw stream and on every
/// prefix that `peek` calls complete.
fn single(stream: &[u8]) {
    let parsed = Frame::parse(stream);
    if let Ok((frame, used)) = &parsed {
        assert!(*used <= stream.len(), "Frame::parse used more than given");
        let encoded = frame.to_bytes().expect("a parsed frame encodes");
        assert_eq!(
            &encoded[..],
            &stream[..*used],
            "Frame::parse: frame does not re-encode to its bytes"
        );
        assert_eq!(
            Frame::decode(&stream[..*used]).as_ref(),
            Ok(frame),
            "Frame::decode disagrees with Frame::parse"
        );
    }
    let decoded = Frame::decode(stream);
    let by_bytes = Frame::decode_bytes(Bytes::copy_from_slice(stream));
    assert_eq!(
        decoded, by_bytes,
        "Frame::decode and Frame::decode_bytes disagree"
    );
    if let Ok(frame) = &decoded {
        assert_eq!(
            &frame.to_bytes().expect("a decoded frame encodes")[..],
            stream,
            "Frame::decode: frame does not re-encode to its bytes"
        );
        assert!(
            matches!(&parsed, Ok((f, used)) if f == frame && *used == stream.len()),
            "Frame::parse rejects what Frame::decode accepts"
        );
    }
    match peek(stream, MAX_DATA) {
        Ok(Peek::Complete { frame_len }) => {
            assert!(frame_len <= stream.len(), "peek: frame longer than buffer");
            assert_eq!(
                parsed.as_ref().map(|(_, used)| *used).ok(),
                Frame::decode(&stream[..frame_len]).ok().map(|_| frame_len),
                "Frame::parse disagrees with peek + decode"
            );
        }
        Ok(Peek::Incomplete { needed }) => {
            assert!(needed > 0, "peek: incomplete but needs nothing");
            assert!(parsed.is_err(), "Frame::parse accepted an incomplete frame");
        }
        Err(_) => assert!(parsed.is_err(), "Frame::parse accepted what peek rejects"),
    }
}
