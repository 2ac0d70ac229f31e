//! How a competence export's bytes are decoded: UTF-8 with or without a byte order mark, and
//! Windows-1252 as Excel saves "CSV (Comma delimited)" on English Windows.

use crate::error::{Error, Result};

/// How much of the file is read at a time.
pub(crate) const READ_CHUNK_BYTES: usize = 64 * 1024;

/// How the bytes of a competence export are decoded into text.
///
/// [`CsvEncoding::AUTO`] (the default) reads UTF-8, with or without a byte order mark, and
/// reads any byte that is not part of valid UTF-8 as Windows-1252 (cp1252, the code page
/// Excel's "CSV (Comma delimited)" saves in on English Windows; a superset of Latin-1's
/// printable characters). ASCII, which employee numbers, dates and CSTF names are, reads the
/// same in all three, so a file is never refused for its encoding. A named encoding
/// ([`CsvEncoding::from_label`]) decodes the whole file with it, malformed bytes read as U+FFFD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CsvEncoding(Option<&'static encoding_rs::Encoding>);

impl CsvEncoding {
    /// UTF-8 where the bytes are UTF-8, Windows-1252 where they are not.
    pub const AUTO: Self = Self(None);

    /// The encoding a label names, as the WHATWG Encoding Standard reads labels (`utf-8`,
    /// `cp1252`, `windows-1252`, `latin1`, `iso-8859-1`, …), also with `_` for `-` and
    /// Python's spellings (`latin-1`, `utf-8-sig`). Latin-1 labels give Windows-1252, as
    /// browsers do.
    pub fn from_label(label: &str) -> Result<Self> {
        let l = label.trim().to_ascii_lowercase().replace('_', "-");
        let l = match l.as_str() {
            "utf-8-sig" | "utf8-sig" => "utf-8".to_owned(),
            "latin-1" => "latin1".to_owned(),
            _ => l,
        };
        encoding_rs::Encoding::for_label(l.as_bytes())
            .filter(|e| e.output_encoding() == *e)
            .map(|e| Self(Some(e)))
            .ok_or_else(|| {
                Error::invalid(
                    "encoding",
                    format!(
                        "{} is not an encoding this reader knows; give 'utf-8', 'cp1252' or 'latin-1', or leave it out to detect UTF-8 or cp1252",
                        crate::values::limits::shown(label)
                    ),
                )
            })
    }

    /// `None` for [`CsvEncoding::AUTO`], else the encoding's name (`windows-1252`, `utf-8`).
    pub fn name(self) -> Option<&'static str> {
        self.0.map(encoding_rs::Encoding::name)
    }
}

/// The character Windows-1252 gives byte `b` (every byte has one, as WHATWG decodes it).
pub(crate) fn cp1252(b: u8) -> char {
    const HIGH: [u16; 32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ];
    match b {
        0x80..=0x9F => char::from_u32(u32::from(HIGH[usize::from(b - 0x80)])).unwrap_or('\u{FFFD}'),
        _ => char::from(b),
    }
}

/// A reader that turns a competence export's bytes into UTF-8 as it reads (see
/// [`CsvEncoding`]), and tells afterwards which encoding it read: the importers wrap their
/// input in one; a binding may too, to report the encoding of an import.
///
/// It holds one chunk of 64 KiB of input and its decoded text, whatever the file's size.
pub struct DecodingReader<R> {
    inner: R,
    decoder: Option<encoding_rs::Decoder>,
    encoding: CsvEncoding,
    raw: Vec<u8>,
    /// Bytes of an incomplete UTF-8 sequence at the end of the last chunk (AUTO).
    carry: usize,
    out: Vec<u8>,
    out_pos: usize,
    eof: bool,
    started: bool,
    bom: bool,
    fallback: bool,
}

impl<R: std::io::Read> DecodingReader<R> {
    /// Decodes `inner` with `encoding`.
    pub fn new(inner: R, encoding: CsvEncoding) -> Self {
        Self {
            inner,
            decoder: encoding.0.map(|e| e.new_decoder_with_bom_removal()),
            encoding,
            raw: vec![0; READ_CHUNK_BYTES],
            carry: 0,
            out: Vec::with_capacity(3 * READ_CHUNK_BYTES + 16),
            out_pos: 0,
            eof: false,
            started: false,
            bom: false,
            fallback: false,
        }
    }

    /// The encoding read so far: the one named, or with [`CsvEncoding::AUTO`] `utf-8`,
    /// `utf-8-sig` (UTF-8 with a byte order mark) or `windows-1252` (some bytes were not UTF-8).
    pub fn encoding_used(&self) -> &'static str {
        match (self.encoding.name(), self.fallback, self.bom) {
            (Some(name), ..) => name,
            (None, true, _) => "windows-1252",
            (None, false, true) => "utf-8-sig",
            (None, false, false) => "utf-8",
        }
    }

    /// Appends up to `max` bytes of decoded text to `buf` (without zeroing them first, as
    /// [`std::io::Read::read`] into a buffer would); 0 only at the end.
    pub(crate) fn read_into(&mut self, buf: &mut Vec<u8>, max: usize) -> std::io::Result<usize> {
        if self.out_pos == self.out.len() {
            self.refill()?;
        }
        let n = max.min(self.out.len() - self.out_pos);
        buf.extend_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }

    /// Reads and decodes the next chunk into `out`; leaves `out` empty only at the end.
    fn refill(&mut self) -> std::io::Result<()> {
        self.out.clear();
        self.out_pos = 0;
        while self.out.is_empty() && !self.eof {
            let n = loop {
                match self.inner.read(&mut self.raw[self.carry..]) {
                    Ok(n) => break n.min(self.raw.len() - self.carry),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            };
            self.eof = n == 0;
            let len = self.carry + n;
            self.carry = 0;
            if let Some(d) = &mut self.decoder {
                self.out
                    .resize(d.max_utf8_buffer_length(len).unwrap_or(4 * len + 16), 0);
                let (_, read, written, _) =
                    d.decode_to_utf8(&self.raw[..len], &mut self.out, self.eof);
                debug_assert_eq!(read, len);
                self.out.truncate(written);
                continue;
            }
            let mut bytes = &self.raw[..len];
            if !self.started {
                // A byte order mark is only told once three bytes are in.
                if bytes.len() < 3 && !self.eof && b"\xEF\xBB\xBF".starts_with(bytes) {
                    self.carry = bytes.len();
                    continue;
                }
                self.started = true;
                self.bom = bytes.starts_with(b"\xEF\xBB\xBF");
            }
            while !bytes.is_empty() {
                match std::str::from_utf8(bytes) {
                    Ok(_) => {
                        self.out.extend_from_slice(bytes);
                        bytes = &[];
                    }
                    Err(e) => {
                        let (ok, rest) = bytes.split_at(e.valid_up_to());
                        self.out.extend_from_slice(ok);
                        match e.error_len() {
                            // The start of a sequence the next chunk may complete.
                            None if !self.eof => {
                                let k = rest.len();
                                self.raw.copy_within(len - k..len, 0);
                                self.carry = k;
                                bytes = &[];
                            }
                            _ => {
                                self.fallback = true;
                                let mut b = [0; 4];
                                self.out.extend_from_slice(
                                    cp1252(rest[0]).encode_utf8(&mut b).as_bytes(),
                                );
                                bytes = &rest[1..];
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl<R: std::io::Read> std::io::Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.out_pos == self.out.len() {
            self.refill()?;
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}
