//! Reading structured choices out of raw fuzz input.

/// A cursor over fuzz input that yields zeros once exhausted.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// Wraps the input.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    /// Whether nothing is left.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Bytes left.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Up to `n` bytes (fewer at the end of the input).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.data.split_at(n.min(self.data.len()));
        self.data = b;
        a
    }

    /// One byte, 0 at the end.
    pub fn u8(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }

    /// A little-endian u16 (missing bytes are 0).
    pub fn u16(&mut self) -> u16 {
        let b = self.take(2);
        u16::from_le_bytes([
            b.first().copied().unwrap_or(0),
            b.get(1).copied().unwrap_or(0),
        ])
    }

    /// A little-endian u32 (missing bytes are 0).
    pub fn u32(&mut self) -> u32 {
        let b = self.take(4);
        let mut w = [0u8; 4];
        for (d, s) in w.iter_mut().zip(b) {
            *d = *s;
        }
        u32::from_le_bytes(w)
    }

    /// Everything left.
    pub fn rest(self) -> &'a [u8] {
        self.data
    }
}

/// Cut points (sorted, from 0 to `len`) splitting a buffer of `len` bytes
/// into chunks whose sizes cycle through `sizes` (each byte `b` is a chunk
/// of `b + 1` bytes). No sizes means one chunk.
pub fn chunk_cuts(len: usize, sizes: &[u8]) -> Vec<usize> {
    let mut cuts = vec![0];
    if sizes.is_empty() {
        cuts.push(len);
        return cuts;
    }
    let mut at = 0usize;
    for s in sizes.iter().cycle() {
        at = at.saturating_add(usize::from(*s) + 1).min(len);
        cuts.push(at);
        if at == len {
            break;
        }
    }
    cuts
}
