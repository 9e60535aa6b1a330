//! Recording what the terminal shows as an asciicast (asciinema's v2 format: a JSON
//! header line, then one `[seconds, "o", text]` line per frame written and
//! `[seconds, "r", "COLSxROWS"]` before a frame drawn at a new size), which asciinema's player, `agg` and other
//! GIF converters read. The recorder sits between ratatui's backend and the terminal:
//! everything written goes on to the terminal and, at each flush (one frame), into the file.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

struct Cast {
    file: std::io::BufWriter<std::fs::File>,
    start: Instant,
    pending: Vec<u8>,
    /// The terminal's size as last recorded.
    size: (u16, u16),
}

impl Cast {
    fn event(&mut self, kind: &str, data: &str) -> std::io::Result<()> {
        let t = self.start.elapsed().as_secs_f64();
        let line = serde_json::to_string(&(t, kind, data)).map_err(std::io::Error::other)?;
        writeln!(self.file, "{line}")
    }
}

/// A writer that passes everything to `out` and records it when a cast file is open.
pub struct Recorder<W: Write> {
    out: W,
    cast: Option<Cast>,
}

impl<W: Write> Recorder<W> {
    /// Passes through only.
    pub fn plain(out: W) -> Recorder<W> {
        Recorder { out, cast: None }
    }

    /// Also records into `path` (created or truncated): the header names the size.
    pub fn to_file(out: W, path: &Path, (cols, rows): (u16, u16), title: &str) -> std::io::Result<Recorder<W>> {
        let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
        let timestamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let header = serde_json::json!({
            "version": 2,
            "width": cols,
            "height": rows,
            "timestamp": timestamp,
            "title": title,
            "env": { "TERM": std::env::var("TERM").unwrap_or_else(|_| "xterm-256color".into()) },
        });
        writeln!(file, "{header}")?;
        let size = (cols, rows);
        Ok(Recorder { out, cast: Some(Cast { file, start: Instant::now(), pending: Vec::new(), size }) })
    }
}

impl<W: Write> Write for Recorder<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        if let Some(c) = &mut self.cast {
            c.pending.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()?;
        if let Some(c) = &mut self.cast
            && !c.pending.is_empty()
        {
            // A resize since the last frame: the player follows before drawing this one.
            if let Ok(size) = crossterm::terminal::size()
                && size != c.size
            {
                c.size = size;
                c.event("r", &format!("{}x{}", size.0, size.1))?;
            }
            // A frame ends at a flush, so it holds whole characters.
            let text = String::from_utf8_lossy(&c.pending).into_owned();
            c.pending.clear();
            c.event("o", &text)?;
            c.file.flush()?;
        }
        Ok(())
    }
}
