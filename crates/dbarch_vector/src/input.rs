//! Embedding files, read and checked before anything is written: `.npy` (2-D float32 or
//! float64, C or Fortran order), `.fvecs` (per row a little-endian int32 dimension count and
//! that many float32s), `.jsonl` (one object per line: the vector under the column's name, other
//! keys fill columns of the same name), `.csv` (a header with the column holding `[1,2,3]`, other
//! columns by name; or no header, each row the vector's floats). Every row must have the same
//! dimensions and only finite values (pgvector rejects NaN and infinity); an error names the
//! row (`.npy`, `.fvecs`) or the line (`.jsonl`, `.csv`).

use crate::{Error, Result};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Another column's values, as text PostgreSQL casts to the column's type (`None`: NULL).
#[derive(Debug, Clone, PartialEq)]
pub struct ExtraColumn {
    pub name: String,
    pub values: Vec<Option<String>>,
}

/// The rows of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    pub dims: usize,
    /// Row-major, `rows * dims` values.
    pub data: Vec<f32>,
    pub extra: Vec<ExtraColumn>,
}

impl Embeddings {
    pub fn rows(&self) -> usize {
        self.data.len().checked_div(self.dims).unwrap_or(0)
    }
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dims..(i + 1) * self.dims]
    }
}

/// Reads `path` by its extension; `column` names the vector in `.jsonl` and `.csv` files.
pub fn read(path: &Path, column: &str) -> Result<Embeddings> {
    let name = path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    let open =
        || std::fs::File::open(path).map_err(|e| Error::input(format!("cannot read {name}: {e}")));
    let mut b = Builder::new(&name);
    match ext.as_str() {
        "npy" => read_npy(open()?, &mut b)?,
        "fvecs" => read_fvecs(open()?, &mut b)?,
        "jsonl" | "ndjson" => read_jsonl(open()?, column, &mut b)?,
        "csv" => read_csv(open()?, column, &mut b)?,
        _ => {
            return Err(Error::input(format!(
                "{name}: unknown format (expected .npy, .fvecs, .jsonl or .csv)"
            )));
        }
    }
    b.finish()
}

/// Rows of a file streamed in batches while it is read (`.npy`, `.fvecs`: no other fields).
#[derive(Debug)]
pub struct Batch {
    pub dims: usize,
    /// Row-major values of whole rows.
    pub data: Vec<f32>,
    /// The file's row count when its header or size tells it.
    pub total_rows: Option<u64>,
}

/// Where a streaming read sends its batches.
type BatchSender = tokio::sync::mpsc::Sender<Result<Batch>>;

/// Whether [`stream`] reads this file (`.npy`, `.fvecs`).
pub fn streamable(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref(),
        Some("npy" | "fvecs")
    )
}

/// Reads a `.npy` or `.fvecs` file (blocking: run it on a thread of its own) and sends its rows
/// in batches of `batch_rows`, checked as [`read`] checks them; an error is sent last, and ends
/// the stream. The receiver starts writing while the rest is read.
pub fn stream(path: &Path, batch_rows: usize, tx: BatchSender) {
    let name = path.display().to_string();
    let result = (|| {
        let f = std::fs::File::open(path)
            .map_err(|e| Error::input(format!("cannot read {name}: {e}")))?;
        let mut b = Builder::new(&name);
        b.sink = Some((tx.clone(), batch_rows.max(1)));
        if streamable(path) && name.to_ascii_lowercase().ends_with(".npy") {
            read_npy(f, &mut b)?;
        } else {
            read_fvecs(f, &mut b)?;
        }
        if b.rows == 0 {
            return Err(Error::input(format!("{name}: holds no vectors")));
        }
        b.flush()
    })();
    if let Err(e) = result {
        let _ = tx.blocking_send(Err(e));
    }
}

struct Builder<'a> {
    file: &'a str,
    dims: Option<usize>,
    data: Vec<f32>,
    rows: usize,
    extra: Vec<ExtraColumn>,
    extra_index: HashMap<String, usize>,
    sink: Option<(BatchSender, usize)>,
    total_rows: Option<u64>,
}

impl<'a> Builder<'a> {
    fn new(file: &'a str) -> Self {
        Builder {
            file,
            dims: None,
            data: Vec::new(),
            rows: 0,
            extra: Vec::new(),
            extra_index: HashMap::new(),
            sink: None,
            total_rows: None,
        }
    }

    /// Sends the rows gathered so far as one batch (streaming reads only).
    fn flush(&mut self) -> Result<()> {
        let (Some((tx, batch_rows)), Some(dims)) = (&self.sink, self.dims) else {
            return Ok(());
        };
        if self.data.is_empty() {
            return Ok(());
        }
        let data = std::mem::replace(&mut self.data, Vec::with_capacity(batch_rows * dims));
        tx.blocking_send(Ok(Batch {
            dims,
            data,
            total_rows: self.total_rows,
        }))
        .map_err(|_| Error::input(format!("{}: the load stopped reading", self.file)))
    }

    /// Checks and appends one vector; `at` is "row 3" or "line 7".
    fn push(&mut self, values: &[f32], at: &dyn Fn() -> String) -> Result<()> {
        if values.is_empty() {
            return Err(Error::input(format!(
                "{}: {} has an empty vector",
                self.file,
                at()
            )));
        }
        match self.dims {
            None => self.dims = Some(values.len()),
            Some(d) if d != values.len() => {
                return Err(Error::input(format!(
                    "{}: {} has {} dimensions, the rows before it {d}",
                    self.file,
                    at(),
                    values.len()
                )));
            }
            Some(_) => {}
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::input(format!(
                "{}: {} holds {} at dimension {} (pgvector accepts only finite values)",
                self.file,
                at(),
                values[i],
                i + 1
            )));
        }
        self.data.extend_from_slice(values);
        self.rows += 1;
        if let Some((_, batch_rows)) = &self.sink
            && self.data.len() >= batch_rows * values.len()
        {
            self.flush()?;
        }
        Ok(())
    }

    /// Sets another column's value for the row just pushed.
    fn set_extra(&mut self, name: &str, value: Option<String>) {
        let row = self.rows - 1;
        let idx = match self.extra_index.get(name) {
            Some(&i) => i,
            None => {
                self.extra.push(ExtraColumn {
                    name: name.to_owned(),
                    values: Vec::new(),
                });
                self.extra_index
                    .insert(name.to_owned(), self.extra.len() - 1);
                self.extra.len() - 1
            }
        };
        let values = &mut self.extra[idx].values;
        values.resize(row, None);
        values.push(value);
    }

    fn finish(mut self) -> Result<Embeddings> {
        let Some(dims) = self.dims.filter(|_| self.rows > 0) else {
            return Err(Error::input(format!("{}: holds no vectors", self.file)));
        };
        for c in &mut self.extra {
            c.values.resize(self.rows, None);
        }
        Ok(Embeddings {
            dims,
            data: self.data,
            extra: self.extra,
        })
    }
}

fn io_err(file: &str, e: std::io::Error) -> Error {
    Error::input(format!("cannot read {file}: {e}"))
}

fn read_npy(f: std::fs::File, b: &mut Builder) -> Result<()> {
    let file = b.file;
    let npy = npyz::NpyFile::new(BufReader::new(f))
        .map_err(|e| Error::input(format!("{file}: not a .npy file: {e}")))?;
    let shape = npy.shape().to_vec();
    let [rows, dims] = shape[..] else {
        return Err(Error::input(format!(
            "{file}: a {}-D array; expected 2-D (rows x dimensions)",
            shape.len()
        )));
    };
    let (rows, dims) = (rows as usize, dims as usize);
    let fortran = npy.order() == npyz::Order::Fortran;
    let npyz::DType::Plain(ts) = npy.dtype() else {
        return Err(Error::input(format!(
            "{file}: a structured array; expected float32 or float64"
        )));
    };
    let flat: Vec<f32> = match (ts.type_char(), ts.size_field()) {
        (npyz::TypeChar::Float, 4) => npy.into_vec::<f32>().map_err(|e| io_err(file, e))?,
        (npyz::TypeChar::Float, 8) => npy
            .into_vec::<f64>()
            .map_err(|e| io_err(file, e))?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        _ => {
            return Err(Error::input(format!(
                "{file}: dtype {ts}; expected float32 or float64"
            )));
        }
    };
    if flat.len() != rows * dims {
        return Err(Error::input(format!(
            "{file}: truncated ({} of {} values)",
            flat.len(),
            rows * dims
        )));
    }
    let mut row = vec![0f32; dims];
    b.total_rows = Some(rows as u64);
    b.data.reserve(match &b.sink {
        Some((_, batch)) => (*batch).min(rows) * dims,
        None => rows * dims,
    });
    for r in 0..rows {
        if fortran {
            for (c, v) in row.iter_mut().enumerate() {
                *v = flat[c * rows + r];
            }
        } else {
            row.copy_from_slice(&flat[r * dims..(r + 1) * dims]);
        }
        b.push(&row, &|| format!("row {}", r + 1))?;
    }
    Ok(())
}

fn read_fvecs(f: std::fs::File, b: &mut Builder) -> Result<()> {
    let file = b.file;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut rd = BufReader::with_capacity(1 << 20, f);
    let mut head = [0u8; 4];
    let mut body = Vec::new();
    let mut row = Vec::new();
    let mut r = 0usize;
    let truncated = |r: usize, e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Error::input(format!("{file}: row {r} is truncated"))
        } else {
            io_err(file, e)
        }
    };
    loop {
        if rd.fill_buf().map_err(|e| io_err(file, e))?.is_empty() {
            return Ok(());
        }
        r += 1;
        rd.read_exact(&mut head).map_err(|e| truncated(r, e))?;
        let d = i32::from_le_bytes(head);
        if d <= 0 || d > 64_000 {
            return Err(Error::input(format!(
                "{file}: row {r} declares {d} dimensions: not an .fvecs file?"
            )));
        }
        let d = d as usize;
        if r == 1 {
            // Every row the size of the first: reserve the values once.
            let rows = len / (4 + 4 * d as u64);
            b.total_rows = Some(rows);
            let reserve = match &b.sink {
                Some((_, batch)) => (*batch).min(rows as usize),
                None => rows as usize,
            };
            b.data.reserve(reserve * d);
        }
        body.resize(4 * d, 0);
        rd.read_exact(&mut body).map_err(|e| truncated(r, e))?;
        row.clear();
        row.extend(
            body.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
        b.push(&row, &|| format!("row {r}"))?;
    }
}

fn read_jsonl(f: std::fs::File, column: &str, b: &mut Builder) -> Result<()> {
    let file = b.file;
    let mut row = Vec::new();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let n = i + 1;
        let line = line.map_err(|e| io_err(file, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| Error::input(format!("{file}: line {n} is not JSON: {e}")))?;
        let serde_json::Value::Object(map) = value else {
            return Err(Error::input(format!(
                "{file}: line {n} is not a JSON object"
            )));
        };
        let Some(v) = map.get(column) else {
            return Err(Error::input(format!(
                "{file}: line {n} has no \"{column}\""
            )));
        };
        row.clear();
        match v {
            serde_json::Value::Array(items) => {
                for (j, item) in items.iter().enumerate() {
                    let x = item.as_f64().ok_or_else(|| {
                        Error::input(format!(
                            "{file}: line {n}: \"{column}\"[{j}] is not a number"
                        ))
                    })?;
                    row.push(x as f32);
                }
            }
            serde_json::Value::String(s) => parse_floats(s, &mut row)
                .map_err(|e| Error::input(format!("{file}: line {n}: {e}")))?,
            _ => {
                return Err(Error::input(format!(
                    "{file}: line {n}: \"{column}\" is not an array of numbers"
                )));
            }
        }
        b.push(&row, &|| format!("line {n}"))?;
        for (k, v) in map.iter().filter(|(k, _)| k.as_str() != column) {
            let text = match v {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            };
            b.set_extra(k, text);
        }
    }
    Ok(())
}

/// `[1, 2.5, 3]`, `{1,2,3}`, `1 2 3` or `1,2,3`.
fn parse_floats(s: &str, out: &mut Vec<f32>) -> std::result::Result<(), String> {
    let t = s.trim();
    let t = t
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .or_else(|| t.strip_prefix('{').and_then(|t| t.strip_suffix('}')))
        .unwrap_or(t);
    for part in t.split(|c: char| c == ',' || c.is_whitespace()) {
        if part.is_empty() {
            continue;
        }
        out.push(
            part.parse::<f32>()
                .map_err(|_| format!("{part:?} is not a number"))?,
        );
    }
    Ok(())
}

fn read_csv(f: std::fs::File, column: &str, b: &mut Builder) -> Result<()> {
    let file = b.file;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::new(f));
    let mut records = reader.records();
    let first = match records.next() {
        None => return Ok(()),
        Some(r) => r.map_err(|e| Error::input(format!("{file}: {e}")))?,
    };
    let all_numbers = first.iter().all(|f| f.trim().parse::<f32>().is_ok());
    let mut row = Vec::new();
    let line = |r: &csv::StringRecord| r.position().map(|p| p.line()).unwrap_or(0);
    if all_numbers {
        // No header: each row is the vector.
        for rec in std::iter::once(Ok(first)).chain(records) {
            let rec = rec.map_err(|e| Error::input(format!("{file}: {e}")))?;
            let n = line(&rec);
            row.clear();
            for field in rec.iter() {
                row.push(field.trim().parse::<f32>().map_err(|_| {
                    Error::input(format!("{file}: line {n}: {field:?} is not a number"))
                })?);
            }
            b.push(&row, &|| format!("line {n}"))?;
        }
        return Ok(());
    }
    let header: Vec<String> = first.iter().map(|h| h.trim().to_owned()).collect();
    let Some(vcol) = header.iter().position(|h| h == column) else {
        return Err(Error::input(format!(
            "{file}: no column \"{column}\" in the header ({})",
            header.join(", ")
        )));
    };
    for rec in records {
        let rec = rec.map_err(|e| Error::input(format!("{file}: {e}")))?;
        let n = line(&rec);
        if rec.len() != header.len() {
            return Err(Error::input(format!(
                "{file}: line {n} has {} fields, the header {}",
                rec.len(),
                header.len()
            )));
        }
        row.clear();
        parse_floats(&rec[vcol], &mut row)
            .map_err(|e| Error::input(format!("{file}: line {n}: {e}")))?;
        b.push(&row, &|| format!("line {n}"))?;
        for (i, h) in header.iter().enumerate() {
            if i != vcol {
                b.set_extra(h, Some(rec[i].to_owned()));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn formats_read_the_same_vectors() {
        let dir = tempfile::tempdir().unwrap();
        let jsonl = write(
            dir.path(),
            "a.jsonl",
            b"{\"embedding\": [1, 2.5, 3], \"title\": \"x\"}\n\n{\"embedding\": \"[4,5,6]\", \"n\": 7}\n",
        );
        let e = read(&jsonl, "embedding").unwrap();
        assert_eq!(e.data, vec![1.0, 2.5, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(e.extra.len(), 2);
        assert_eq!(e.extra[0].values, vec![Some("x".into()), None]);
        assert_eq!(e.extra[1].values, vec![None, Some("7".into())]);

        let csv = write(
            dir.path(),
            "a.csv",
            b"title,embedding\nx,\"[1,2.5,3]\"\ny,\"[4,5,6]\"\n",
        );
        let c = read(&csv, "embedding").unwrap();
        assert_eq!(c.data, e.data);
        let bare = write(dir.path(), "b.csv", b"1,2.5,3\n4,5,6\n");
        assert_eq!(read(&bare, "embedding").unwrap().data, e.data);

        let mut fv = Vec::new();
        for r in [[1.0f32, 2.5, 3.0], [4.0, 5.0, 6.0]] {
            fv.extend_from_slice(&3i32.to_le_bytes());
            for v in r {
                fv.extend_from_slice(&v.to_le_bytes());
            }
        }
        let f = write(dir.path(), "a.fvecs", &fv);
        assert_eq!(read(&f, "embedding").unwrap().data, e.data);
    }

    #[test]
    fn bad_rows_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "d.jsonl",
            b"{\"embedding\": [1,2]}\n{\"embedding\": [1,2,3]}\n",
        );
        let err = read(&p, "embedding").unwrap_err().to_string();
        assert!(
            err.contains("line 2 has 3 dimensions, the rows before it 2"),
            "{err}"
        );
        let p = write(dir.path(), "n.csv", b"1,2\nNaN,1\n");
        let err = read(&p, "embedding").unwrap_err().to_string();
        assert!(err.contains("line 2 holds NaN at dimension 1"), "{err}");
        let p = write(dir.path(), "e.csv", b"");
        assert!(
            read(&p, "embedding")
                .unwrap_err()
                .to_string()
                .ends_with("holds no vectors")
        );
        let err = read(&dir.path().join("missing.npy"), "embedding").unwrap_err();
        assert!(err.is_input() && err.to_string().starts_with("cannot read "));
    }
}
