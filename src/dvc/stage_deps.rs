//! Stage dependencies, for `-d/--with-deps`: which paths each stage reads. Taken from
//! `dvc.lock` where it exists (paths there are resolved), else from `dvc.yaml`.

use serde_yaml_ng::Value;

/// `(stage name, dependency path relative to the pipeline's directory)` pairs.
pub fn stage_deps(dvc_yaml: &[u8], dvc_lock: Option<&[u8]>) -> Vec<(String, String)> {
    let from = |bytes: &[u8]| -> Option<Vec<(String, String)>> {
        let doc: Value = serde_yaml_ng::from_slice(bytes).ok()?;
        let stages = doc.get("stages")?.as_mapping()?;
        let mut out = Vec::new();
        for (name, stage) in stages {
            let Some(name) = name.as_str() else { continue };
            let wdir = stage.get("wdir").and_then(Value::as_str).unwrap_or("");
            let Some(deps) = stage.get("deps").and_then(Value::as_sequence) else {
                continue;
            };
            for dep in deps {
                let path = match dep {
                    Value::String(s) => Some(s.as_str()),
                    Value::Mapping(_) => dep.get("path").and_then(Value::as_str),
                    _ => None,
                };
                if let Some(path) = path {
                    let path = if wdir.is_empty() || wdir == "." {
                        path.to_string()
                    } else {
                        format!("{wdir}/{path}")
                    };
                    out.push((name.to_string(), path));
                }
            }
        }
        Some(out)
    };
    dvc_lock
        .and_then(from)
        .or_else(|| from(dvc_yaml))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_deps_win_over_yaml() {
        let yaml = b"stages:\n  train:\n    cmd: x\n    deps: [data, '${x}']\n";
        let lock = b"schema: '2.0'\nstages:\n  train:\n    cmd: x\n    deps:\n    - path: data\n      md5: d41d8cd98f00b204e9800998ecf8427e\n";
        assert_eq!(
            stage_deps(yaml, Some(lock)),
            vec![("train".to_string(), "data".to_string())]
        );
        assert_eq!(stage_deps(yaml, None).len(), 2);
    }
}
