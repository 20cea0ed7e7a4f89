//! The lowest layer of gob: unsigned/signed integers, floats, byte strings
//! and the message framing they are read from.

use super::error::{Error, Result};

/// Reads from a gob stream the way Go's `Decoder` does: values are read from
/// the current message, and a new message (byte count, bytes) is only pulled
/// in by [`Reader::next_message`], which the decoder calls at type sequences.
/// Go's encoder cuts a value into several messages right after the type
/// definitions of nested interface values, so the split matters.
pub(crate) struct Reader<'a> {
    msg: &'a [u8],
    rest: &'a [u8],
}

/// Decodes one gob unsigned integer from the front of `buf`.
fn take_uint(buf: &mut &[u8]) -> Result<u64> {
    let (&first, tail) = buf.split_first().ok_or(Error::UnexpectedEof)?;
    if first < 0x80 {
        *buf = tail;
        return Ok(u64::from(first));
    }
    // A negated byte count follows: 0xff = 1 byte ... 0xf8 = 8 bytes.
    let n = usize::from(first.wrapping_neg());
    if n > 8 {
        return Err(Error::BadUint);
    }
    if tail.len() < n {
        return Err(Error::UnexpectedEof);
    }
    let (digits, tail) = tail.split_at(n);
    *buf = tail;
    Ok(digits
        .iter()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// Checks that `input` is a sequence of whole messages (byte count, then
/// the bytes), as every gob stream is, without reading them.
pub(crate) fn whole_messages(mut input: &[u8]) -> Result<()> {
    while !input.is_empty() {
        let len = take_uint(&mut input)?;
        let available = input.len();
        input = usize::try_from(len)
            .ok()
            .and_then(|n| input.get(n..))
            .ok_or(Error::LengthTooLarge { len, available })?;
    }
    Ok(())
}

impl<'a> Reader<'a> {
    /// A reader over a whole stream, positioned before its first message.
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Reader {
            msg: &[],
            rest: input,
        }
    }

    /// Bytes left in the current message.
    pub(crate) fn msg_len(&self) -> usize {
        self.msg.len()
    }

    /// Bytes left in the whole input: the bound for any element count,
    /// since every gob element takes at least one byte.
    pub(crate) fn total_len(&self) -> usize {
        self.msg.len() + self.rest.len()
    }

    /// Pulls in the next message; `Ok(false)` at the end of the stream.
    pub(crate) fn next_message(&mut self) -> Result<bool> {
        if self.rest.is_empty() {
            return Ok(false);
        }
        let mut rest = self.rest;
        let len = take_uint(&mut rest)?;
        let n = usize::try_from(len)
            .ok()
            .filter(|&n| n <= rest.len())
            .ok_or(Error::LengthTooLarge {
                len,
                available: rest.len(),
            })?;
        let (msg, rest) = rest.split_at(n);
        self.msg = msg;
        self.rest = rest;
        Ok(true)
    }

    /// One unsigned integer from the current message.
    pub(crate) fn uint(&mut self) -> Result<u64> {
        take_uint(&mut self.msg)
    }

    /// One signed integer (bit 0 says "complement the rest").
    pub(crate) fn int(&mut self) -> Result<i64> {
        Ok(uint_to_int(self.uint()?))
    }

    /// One float: a byte-reversed `f64` bit pattern sent as an unsigned integer.
    pub(crate) fn float(&mut self) -> Result<f64> {
        Ok(f64::from_bits(self.uint()?.swap_bytes()))
    }

    /// A count of elements, bounded by the whole remaining input so that no
    /// caller can be made to allocate more elements than there are bytes.
    pub(crate) fn count(&mut self) -> Result<usize> {
        let len = self.uint()?;
        let available = self.total_len();
        usize::try_from(len)
            .ok()
            .filter(|&n| n <= available)
            .ok_or(Error::LengthTooLarge { len, available })
    }

    /// A length-prefixed byte string from the current message.
    pub(crate) fn byte_string(&mut self) -> Result<&'a [u8]> {
        let len = self.uint()?;
        let available = self.msg.len();
        let n = usize::try_from(len)
            .ok()
            .filter(|&n| n <= available)
            .ok_or(Error::LengthTooLarge { len, available })?;
        let (bytes, msg) = self.msg.split_at(n);
        self.msg = msg;
        Ok(bytes)
    }

    /// A length-prefixed UTF-8 string.
    pub(crate) fn string(&mut self) -> Result<String> {
        let bytes = self.byte_string()?;
        String::from_utf8(bytes.to_vec()).map_err(|_| Error::InvalidUtf8)
    }
}

/// Gob's signed integer mapping, receiving side.
pub(crate) fn uint_to_int(u: u64) -> i64 {
    // The shifted value fits in 63 bits, so the cast cannot wrap.
    let i = (u >> 1) as i64;
    if u & 1 == 1 {
        !i
    } else {
        i
    }
}

/// Gob's signed integer mapping, sending side.
pub(crate) fn int_to_uint(i: i64) -> u64 {
    if i < 0 {
        ((!i as u64) << 1) | 1
    } else {
        (i as u64) << 1
    }
}

/// Appends gob primitives to a byte buffer.
#[derive(Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn uint(&mut self, u: u64) {
        if u < 0x80 {
            self.buf.push(u as u8);
            return;
        }
        let bytes = u.to_be_bytes();
        let skip = (u.leading_zeros() / 8) as usize;
        let n = bytes.len() - skip;
        self.buf.push((n as u8).wrapping_neg());
        self.buf.extend_from_slice(&bytes[skip..]);
    }

    pub(crate) fn int(&mut self, i: i64) {
        self.uint(int_to_uint(i));
    }

    pub(crate) fn float(&mut self, f: f64) {
        self.uint(f.to_bits().swap_bytes());
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.uint(b.len() as u64);
        self.buf.extend_from_slice(b);
    }

    /// Appends `body` as a delimited message: its byte count, then the bytes.
    pub(crate) fn message(&mut self, body: &[u8]) {
        self.bytes(body);
    }
}

/// Writes the fields of one gob struct: delta-encoded field numbers, then
/// the terminating zero delta from [`FieldWriter::end`].
pub(crate) struct FieldWriter {
    last: i64,
}

impl FieldWriter {
    pub(crate) fn new() -> Self {
        FieldWriter { last: -1 }
    }

    /// Announces field `n`; fields must come in increasing order.
    pub(crate) fn field(&mut self, w: &mut Writer, n: usize) {
        let n = n as i64;
        w.uint((n - self.last) as u64);
        self.last = n;
    }

    pub(crate) fn end(self, w: &mut Writer) {
        w.uint(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc_uint(u: u64) -> Vec<u8> {
        let mut w = Writer::default();
        w.uint(u);
        w.buf
    }

    #[test]
    fn examples_from_the_go_documentation() {
        assert_eq!(enc_uint(0), [0x00]);
        assert_eq!(enc_uint(7), [0x07]);
        assert_eq!(enc_uint(256), [0xfe, 0x01, 0x00]);
        let mut w = Writer::default();
        w.int(-129);
        assert_eq!(w.buf, [0xfe, 0x01, 0x01]);
        let mut w = Writer::default();
        w.float(17.0);
        assert_eq!(w.buf, [0xfe, 0x31, 0x40]);
    }

    #[test]
    fn integers_round_trip_at_the_edges() {
        for i in [0, 1, -1, 63, -64, 64, i64::MAX, i64::MIN, 1 << 40] {
            assert_eq!(uint_to_int(int_to_uint(i)), i);
        }
        for u in [0, 127, 128, 255, 256, u64::MAX] {
            let bytes = enc_uint(u);
            let mut r = Reader::new(&[]);
            r.msg = &bytes;
            assert_eq!(r.uint(), Ok(u));
            assert_eq!(r.msg_len(), 0);
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut r = Reader::new(&[]);
        r.msg = &[0x80];
        assert_eq!(r.uint(), Err(Error::BadUint));
        r.msg = &[0xfe, 0x01];
        assert_eq!(r.uint(), Err(Error::UnexpectedEof));
        // A length of 2^60 is refused before anything is allocated.
        let mut w = Writer::default();
        w.uint(1 << 60);
        let bytes = w.buf;
        let mut r = Reader::new(&[]);
        r.msg = &bytes;
        assert!(matches!(r.count(), Err(Error::LengthTooLarge { .. })));
    }
}
