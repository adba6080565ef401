//! Reading an EPUB: limits against hostile archives, metadata, passages, CFIs, sanitizing.
