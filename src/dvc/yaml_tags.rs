//! YAML tags, checked the way DVC's loader (ruamel's safe loader) treats them.
//!
//! DVC 3.67.1 refuses any tag its safe constructor does not know: local tags (`!foo`) and
//! `!!python/…`, `!!merge` and the like fail with "could not determine a constructor for the
//! tag". serde_yaml_ng reports local tags (which [`super::yaml`] then refuses), but resolves
//! `!!x` to `tag:yaml.org,2002:x` and silently drops it, so `!!python/object:…` on a mapping
//! would load as a plain mapping. This pass walks libyaml's events (the same parser
//! serde_yaml_ng uses) and refuses every tag except the core ones that load to the same value
//! here as in DVC: `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!map`, `!!seq`.
//!
//! The types DVC's safe loader knows beyond those (`!!binary`, `!!set`, `!!omap`, `!!pairs`,
//! `!!timestamp`) are refused too: they load in DVC as bytes, sets, ordered pairs or dates,
//! which neither DVC's schemas nor git-dvc read as the strings and lists they would be here,
//! and DVC never writes them.
//!
//! The walk is linear in the input: aliases are events, not expanded, and callers run it only
//! on documents the bounded loader has already accepted.

use std::mem::MaybeUninit;
use std::ptr::addr_of_mut;

use unsafe_libyaml as unsafe_sys;

const CORE_PREFIX: &str = "tag:yaml.org,2002:";
const ALLOWED_CORE: &[&str] = &["str", "int", "float", "bool", "null", "map", "seq"];

/// A tag DVC would refuse, as written (`!!x` for core-schema tags) and its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedTag {
    pub tag: String,
    pub line: u64,
}

/// The first tag in `text` that DVC's loader refuses. `None` as well when libyaml cannot
/// parse the text: the loader reports syntax errors.
pub fn first_refused_tag(text: &str) -> Option<RefusedTag> {
    let mut parser = Parser::new(text)?;
    loop {
        let (event_type, tag, line) = parser.next()?;
        if let Some(tag) = tag {
            if !allowed(&tag) {
                let tag = match tag.strip_prefix(CORE_PREFIX) {
                    Some(core) => format!("!!{core}"),
                    None => tag,
                };
                return Some(RefusedTag { tag, line });
            }
        }
        if event_type == unsafe_sys::YAML_STREAM_END_EVENT {
            return None;
        }
    }
}

fn allowed(tag: &str) -> bool {
    tag.strip_prefix(CORE_PREFIX)
        .is_some_and(|core| ALLOWED_CORE.contains(&core))
}

/// Owns a libyaml parser reading `text`, which it borrows for its lifetime.
struct Parser<'t> {
    sys: Box<MaybeUninit<unsafe_sys::yaml_parser_t>>,
    _text: &'t str,
}

impl<'t> Parser<'t> {
    fn new(text: &'t str) -> Option<Parser<'t>> {
        let mut sys: Box<MaybeUninit<unsafe_sys::yaml_parser_t>> = Box::new(MaybeUninit::uninit());
        // SAFETY: `yaml_parser_initialize` fully initialises the (heap-pinned) parser; the
        // input pointer stays valid while `self` borrows `text`, and `Drop` deletes the parser.
        unsafe {
            let parser = sys.as_mut_ptr();
            if unsafe_sys::yaml_parser_initialize(parser).fail {
                return None;
            }
            unsafe_sys::yaml_parser_set_encoding(parser, unsafe_sys::YAML_UTF8_ENCODING);
            unsafe_sys::yaml_parser_set_input_string(parser, text.as_ptr(), text.len() as u64);
        }
        Some(Parser { sys, _text: text })
    }

    /// The next event's type, tag and line; `None` on a parse error.
    fn next(&mut self) -> Option<(unsafe_sys::yaml_event_type_t, Option<String>, u64)> {
        let mut event = MaybeUninit::<unsafe_sys::yaml_event_t>::uninit();
        // SAFETY: the parser was initialised in `new`; a successful `yaml_parser_parse`
        // initialises `event`, whose tag pointers are NUL-terminated strings owned by the
        // event until `yaml_event_delete`, after which nothing of them is used.
        unsafe {
            // Never called again after a failure: `first_refused_tag` stops at the first `None`.
            let parser = self.sys.as_mut_ptr();
            let event = addr_of_mut!(*event.as_mut_ptr());
            if unsafe_sys::yaml_parser_parse(parser, event).fail {
                return None;
            }
            let tag_ptr = match (*event).type_ {
                unsafe_sys::YAML_SCALAR_EVENT => (*event).data.scalar.tag,
                unsafe_sys::YAML_SEQUENCE_START_EVENT => (*event).data.sequence_start.tag,
                unsafe_sys::YAML_MAPPING_START_EVENT => (*event).data.mapping_start.tag,
                _ => std::ptr::null_mut(),
            };
            let tag = (!tag_ptr.is_null()).then(|| {
                std::ffi::CStr::from_ptr(tag_ptr.cast())
                    .to_string_lossy()
                    .into_owned()
            });
            let result = ((*event).type_, tag, (*event).start_mark.line + 1);
            unsafe_sys::yaml_event_delete(event);
            Some(result)
        }
    }
}

impl Drop for Parser<'_> {
    fn drop(&mut self) {
        // SAFETY: initialised in `new` (a `Parser` only exists after a successful init).
        unsafe { unsafe_sys::yaml_parser_delete(self.sys.as_mut_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> Option<String> {
        first_refused_tag(text).map(|t| t.tag)
    }

    #[test]
    fn refuses_tags_dvc_refuses() {
        assert_eq!(
            refused("a: 1\nb: !!python/object:os.system {x: 1}\n").as_deref(),
            Some("!!python/object:os.system")
        );
        assert_eq!(refused("a: !foo bar\n").as_deref(), Some("!foo"));
        assert_eq!(refused("- !!merge x\n").as_deref(), Some("!!merge"));
        assert_eq!(refused("a: !!binary aGk=\n").as_deref(), Some("!!binary"));
        assert_eq!(
            first_refused_tag("a: 1\n\nb:\n  c: !!set {x}\n").map(|t| t.line),
            Some(4)
        );
        assert_eq!(
            refused("%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n").as_deref(),
            Some("tag:example.com,2000:x")
        );
    }

    #[test]
    fn accepts_core_tags_and_untagged_text() {
        for ok in [
            "a: !!str 1\n",
            "a: !!map {x: !!seq [!!int '3', !!float 1, !!bool true, !!null '']}\n",
            "a: !<tag:yaml.org,2002:str> 1\n",
            "cmd: echo hi !foo && x!!y\n",
            "a: |\n  !!python/object:x\n",
            "",
            "a: [unclosed\n",
        ] {
            assert_eq!(refused(ok), None, "{ok:?}");
        }
    }
}
