//! The `Content-Type` DVC's object-store clients give an upload: they guess it from the
//! cache file's name with Python's `mimetypes`, which reads the system's `mime.types`
//! files. A file object has no extension, so it gets none; a `.dir` manifest gets whatever
//! those files say of `dir` (Debian's `media-types`: `application/x-director`, nothing
//! where no file lists it). s3fs then sends the guess or no header; gcsfs sends the guess
//! or `application/octet-stream`; adlfs sends none (Azure stores
//! `application/octet-stream`).

use std::sync::OnceLock;

/// Python's `mimetypes.knownfiles`, in its order: a later file's entry wins.
const KNOWN_FILES: &[&str] = &[
    "/etc/mime.types",
    "/etc/httpd/mime.types",
    "/etc/httpd/conf/mime.types",
    "/etc/apache/mime.types",
    "/etc/apache2/mime.types",
    "/usr/local/etc/httpd/conf/mime.types",
    "/usr/local/lib/netscape/mime.types",
    "/usr/local/etc/httpd/conf/mime.types",
    "/usr/local/etc/mime.types",
];

/// A `mime.types` file bigger than this is not read (Debian's is 74 KB).
const MAX_FILE: u64 = 4 << 20;

/// What a backend's DVC client sends as an upload's content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentTypes {
    /// adlfs: never a content type.
    None,
    /// s3fs: the guess, else no header.
    Guessed,
    /// gcsfs: the guess, else `application/octet-stream`.
    GuessedElseOctetStream,
}

impl ContentTypes {
    /// The content type for an upload to `key` (a cache-layout key: `.dir` or no
    /// extension).
    pub fn for_key(self, key: &str) -> Option<&'static str> {
        let guessed = || key.ends_with(".dir").then(dir_type).flatten();
        match self {
            ContentTypes::None => None,
            ContentTypes::Guessed => guessed(),
            ContentTypes::GuessedElseOctetStream => {
                Some(guessed().unwrap_or("application/octet-stream"))
            }
        }
    }
}

/// The system's type for the `dir` extension, read once.
fn dir_type() -> Option<&'static str> {
    static TYPE: OnceLock<Option<String>> = OnceLock::new();
    TYPE.get_or_init(|| {
        let texts = KNOWN_FILES.iter().filter_map(|file| {
            let meta = std::fs::metadata(file).ok()?;
            if !meta.is_file() || meta.len() > MAX_FILE {
                return None;
            }
            std::fs::read(file)
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        });
        type_in(texts, "dir")
    })
    .as_deref()
}

/// `mimetypes.MimeTypes.readfp` over `texts` in order, for one extension: each line is
/// `type ext…`, `#` starts a comment, a later line wins. Header-unsafe types are dropped.
fn type_in(texts: impl IntoIterator<Item = String>, extension: &str) -> Option<String> {
    let mut found = None;
    for text in texts {
        for line in text.lines() {
            let words: Vec<&str> = line
                .split_whitespace()
                .take_while(|w| !w.starts_with('#'))
                .collect();
            if let Some((kind, extensions)) = words.split_first() {
                if extensions.contains(&extension) {
                    found = Some(kind.to_string());
                }
            }
        }
    }
    found.filter(|t| http::HeaderValue::from_str(t).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_as_python_reads_mime_types() {
        let debian = "# comment dir\napplication/vnd.dir-bi.plate-dl-nosuffix\n\
                      application/x-director\t\t\t\tdcr dir dxr\ntext/plain txt # dir\n";
        assert_eq!(
            type_in([debian.to_string()], "dir").as_deref(),
            Some("application/x-director")
        );
        // A later file wins; nothing listed, nothing sent.
        let later = "application/x-later dir\n".to_string();
        assert_eq!(
            type_in([debian.to_string(), later], "dir").as_deref(),
            Some("application/x-later")
        );
        assert_eq!(type_in(["text/plain txt\n".to_string()], "dir"), None);
        assert_eq!(type_in(["bad\u{1}type dir\n".to_string()], "dir"), None);
    }

    #[test]
    fn per_client() {
        assert_eq!(ContentTypes::None.for_key("ab/cd.dir"), None);
        assert_eq!(ContentTypes::Guessed.for_key("ab/cd"), None);
        assert_eq!(
            ContentTypes::GuessedElseOctetStream.for_key("ab/cd"),
            Some("application/octet-stream")
        );
        assert_eq!(
            ContentTypes::Guessed.for_key("ab/cd.dir"),
            dir_type(),
            "a .dir gets the system's type"
        );
    }
}
