//! Why an EPUB was refused. Every message is one line that names the problem, so the CLI and
//! the HTTP API can show it as is; limit variants name the CLI flag that raises the limit.

/// A refusal to import an EPUB.
#[derive(Debug, thiserror::Error)]
pub enum EpubError {
    #[error("the file is empty")]
    Empty,
    #[error("cannot read the file: {0}")]
    Unreadable(String),
    #[error("file is {size} bytes; the limit is {limit} (--max-file-bytes)")]
    FileTooLarge { size: u64, limit: u64 },
    #[error("not an EPUB: not a readable zip archive ({0})")]
    NotZip(String),
    #[error("archive has {count} entries; the limit is {limit} (--max-entries)")]
    TooManyEntries { count: usize, limit: usize },
    #[error(
        "entry {name:?} is {size} bytes uncompressed; the limit is {limit} (--max-entry-bytes)"
    )]
    EntryTooLarge { name: String, size: u64, limit: u64 },
    #[error(
        "archive holds at least {size} bytes uncompressed; the limit is {limit} (--max-total-bytes)"
    )]
    TotalTooLarge { size: u64, limit: u64 },
    #[error(
        "entry {name:?} expands {ratio} times (a zip bomb?); the limit is {limit} (--max-compression-ratio)"
    )]
    CompressionRatio {
        name: String,
        ratio: u64,
        limit: u64,
    },
    #[error(
        "the archive expands {ratio} times as a whole (a zip bomb?); the limit is {limit} (--max-compression-ratio)"
    )]
    ArchiveCompressionRatio { ratio: u64, limit: u64 },
    #[error("chapter {chapter:?} nests elements deeper than {limit} (--max-html-depth)")]
    HtmlTooDeep { chapter: String, limit: usize },
    #[error("entry {name:?} has an unsafe path")]
    UnsafePath { name: String },
    #[error("entry {name:?} is a symbolic link")]
    Symlink { name: String },
    #[error("entry {name:?} appears more than once in the archive")]
    DuplicateEntry { name: String },
    #[error("entry {name:?} cannot be read: {reason}")]
    CorruptEntry { name: String, reason: String },
    #[error(
        "entry {name:?} declares XML entities (<!ENTITY), which are refused outside XHTML and SVG documents"
    )]
    EntityDeclaration { name: String },
    #[error("not an EPUB: missing META-INF/container.xml")]
    MissingContainer,
    #[error("not an EPUB: META-INF/container.xml names no package document")]
    NoRootfile,
    #[error("not an EPUB: package document {path:?} is missing")]
    MissingPackage { path: String },
    #[error("invalid package document {path:?}: {reason}")]
    InvalidPackage { path: String, reason: String },
    #[error("chapter {path:?} cannot be parsed: {reason}")]
    InvalidChapter { path: String, reason: String },
    #[error("the spine lists no documents")]
    EmptySpine,
    #[error("spine item {idref:?} is not in the manifest")]
    UnknownSpineItem { idref: String },
    /// The consumer of [`super::parse_streaming`]'s parts stopped taking them.
    #[error("the import was stopped before the book was read")]
    Stopped,
}
