//! Opening the zip under limits, before anything trusts it.
//!
//! The `epub` crate reads whole entries into memory and believes the archive's headers, so the
//! archive is checked here first: file size, entry count, every entry's name and type, declared
//! sizes and compression ratio, and the ratio of the archive as a whole (many entries each just
//! under the per-entry check add up); then every entry is read through a bounded reader, so a header
//! that lies about its size cannot exhaust memory, and the actual total is counted. Markup
//! entries that declare XML entities are refused (entity expansion bombs, external entities).
//!
//! The checked entries are not kept: [`Archive::read`] inflates one again when it is needed,
//! so only the entry being processed is in memory, not the whole unzipped book.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};

use super::Limits;
use super::error::EpubError;
use super::text;

/// Entries at or below this many uncompressed bytes are not ratio-checked: small files of
/// repetitive text compress very well without being dangerous.
const RATIO_CHECK_FLOOR: u64 = 1024 * 1024;

/// The verified archive: every file entry's index in the zip, by its name.
pub struct Archive<R> {
    zip: zip::ZipArchive<R>,
    entries: HashMap<String, usize>,
    max_entry_bytes: u64,
}

impl<R: Read + Seek> Archive<R> {
    pub fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// The uncompressed bytes of a file entry (inflated again on every call), if there is one.
    pub fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>, EpubError> {
        let Some(&index) = self.entries.get(name) else {
            return Ok(None);
        };
        let corrupt = |e: &dyn std::fmt::Display| EpubError::CorruptEntry {
            name: name.to_owned(),
            reason: e.to_string(),
        };
        let entry = self.zip.by_index(index).map_err(|e| corrupt(&e))?;
        let mut data = Vec::with_capacity(entry.size().min(self.max_entry_bytes) as usize);
        entry
            .take(self.max_entry_bytes + 1)
            .read_to_end(&mut data)
            .map_err(|e| corrupt(&e))?;
        // Checked in `open`; only a file changed since could grow.
        if data.len() as u64 > self.max_entry_bytes {
            return Err(corrupt(&"entry grew since it was checked"));
        }
        Ok(Some(data))
    }

    pub fn open(mut reader: R, limits: &Limits) -> Result<Archive<R>, EpubError> {
        let size = reader
            .seek(SeekFrom::End(0))
            .map_err(|e| EpubError::Unreadable(e.to_string()))?;
        if size == 0 {
            return Err(EpubError::Empty);
        }
        if size > limits.max_file_bytes {
            return Err(EpubError::FileTooLarge {
                size,
                limit: limits.max_file_bytes,
            });
        }
        let mut zip = zip::ZipArchive::new(reader).map_err(|e| EpubError::NotZip(e.to_string()))?;
        if zip.len() > limits.max_entries {
            return Err(EpubError::TooManyEntries {
                count: zip.len(),
                limit: limits.max_entries,
            });
        }

        // Headers first, for every entry, so a bomb late in the archive is refused before
        // anything is decompressed.
        let mut declared_total: u64 = 0;
        for index in 0..zip.len() {
            let entry = zip
                .by_index_raw(index)
                .map_err(|e| EpubError::NotZip(e.to_string()))?;
            let name = checked_name(entry.name_raw())?;
            if entry
                .unix_mode()
                .is_some_and(|mode| mode & 0o170000 == 0o120000)
            {
                return Err(EpubError::Symlink { name });
            }
            check_entry_size(&name, entry.size(), entry.compressed_size(), limits)?;
            declared_total = declared_total.saturating_add(entry.size());
            if declared_total > limits.max_total_bytes {
                return Err(EpubError::TotalTooLarge {
                    size: declared_total,
                    limit: limits.max_total_bytes,
                });
            }
        }
        check_archive_ratio(declared_total, size, limits)?;

        let mut entries = HashMap::new();
        let mut actual_total: u64 = 0;
        let mut data = Vec::new();
        for index in 0..zip.len() {
            let entry = zip
                .by_index(index)
                .map_err(|e| EpubError::NotZip(e.to_string()))?;
            let name = checked_name(entry.name_raw())?;
            if entry.is_dir() {
                continue;
            }
            let compressed = entry.compressed_size();
            data.clear();
            entry
                .take(limits.max_entry_bytes + 1)
                .read_to_end(&mut data)
                .map_err(|e| EpubError::CorruptEntry {
                    name: name.clone(),
                    reason: e.to_string(),
                })?;
            // The headers were checked above, but they may lie; these are the real sizes.
            check_entry_size(&name, data.len() as u64, compressed, limits)?;
            actual_total += data.len() as u64;
            if actual_total > limits.max_total_bytes {
                return Err(EpubError::TotalTooLarge {
                    size: actual_total,
                    limit: limits.max_total_bytes,
                });
            }
            if declares_entities(&data) {
                return Err(EpubError::EntityDeclaration { name });
            }
            if entries.insert(name.clone(), index).is_some() {
                return Err(EpubError::DuplicateEntry { name });
            }
        }
        check_archive_ratio(actual_total, size, limits)?;
        Ok(Archive {
            zip,
            entries,
            max_entry_bytes: limits.max_entry_bytes,
        })
    }
}

fn check_entry_size(
    name: &str,
    size: u64,
    compressed: u64,
    limits: &Limits,
) -> Result<(), EpubError> {
    if size > limits.max_entry_bytes {
        return Err(EpubError::EntryTooLarge {
            name: name.to_owned(),
            size,
            limit: limits.max_entry_bytes,
        });
    }
    if size > RATIO_CHECK_FLOOR {
        let ratio = size / compressed.max(1);
        if ratio > limits.max_compression_ratio {
            return Err(EpubError::CompressionRatio {
                name: name.to_owned(),
                ratio,
                limit: limits.max_compression_ratio,
            });
        }
    }
    Ok(())
}

/// The whole archive's ratio: `total` uncompressed bytes from a file of `size` bytes.
fn check_archive_ratio(total: u64, size: u64, limits: &Limits) -> Result<(), EpubError> {
    if total > RATIO_CHECK_FLOOR {
        let ratio = total / size.max(1);
        if ratio > limits.max_compression_ratio {
            return Err(EpubError::ArchiveCompressionRatio {
                ratio,
                limit: limits.max_compression_ratio,
            });
        }
    }
    Ok(())
}

/// The entry's name if it is a safe relative path inside the archive: UTF-8, no NUL, no
/// backslash (a Windows separator that would smuggle `..`), not absolute, no drive letter, and
/// no `..` segment.
fn checked_name(raw: &[u8]) -> Result<String, EpubError> {
    let lossy = String::from_utf8_lossy(raw).into_owned();
    let unsafe_path = || EpubError::UnsafePath {
        name: lossy.clone(),
    };
    let name = std::str::from_utf8(raw).map_err(|_| unsafe_path())?;
    let bytes = name.as_bytes();
    let drive_letter = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if name.is_empty()
        || name.contains('\0')
        || name.contains('\\')
        || name.starts_with('/')
        || drive_letter
        || name.split('/').any(|segment| segment == "..")
    {
        return Err(unsafe_path());
    }
    Ok(name.to_owned())
}

/// Whether the entry is markup (it starts with `<` once decoded) that declares entities and is
/// not a content document. The package, container and NCX are read by an XML parser that would
/// expand them; an XHTML or SVG document (its DOCTYPE names `html` or `svg`) is read by Scholia,
/// which expands only plain internal entities ([`super::markup::internal_subset`]). Decoding
/// first catches UTF-16 files, whose bytes would hide the ASCII pattern.
fn declares_entities(data: &[u8]) -> bool {
    // Cheap sniff so images and fonts are not decoded: skip BOMs, whitespace and the NULs of
    // UTF-16, and look for the `<` that markup starts with.
    let first = data.iter().take(1024).find(|b| {
        !matches!(
            b,
            0 | 0xEF | 0xBB | 0xBF | 0xFE | 0xFF | b' ' | b'\t' | b'\r' | b'\n'
        )
    });
    if first != Some(&b'<') {
        return false;
    }
    let decoded = text::decode_markup(data);
    // XML keywords are case-sensitive: `<!entity` declares nothing.
    let content_document = ["<!DOCTYPE html", "<!DOCTYPE svg"]
        .iter()
        .any(|doctype| decoded.contains(doctype));
    decoded.trim_start().starts_with('<') && decoded.contains("<!ENTITY") && !content_document
}
