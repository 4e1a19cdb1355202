//! The reference material (the cXML notes and samples, the vendor spec) is shipped beside the
//! project, not inside it: no comment or document may link it with a relative path as if it
//! were part of the repository (such a link is dead in every clone).

use std::path::{Path, PathBuf};

/// Source, scripts, docs and manifests of the repository (not build output, not the local
/// stack `infra/install.sh` installs under `.stack/`).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if p.is_dir() {
            let skip = name == "target" || name == "node_modules" || (name.starts_with('.') && name != ".ci");
            if !skip {
                walk(&p, out);
            }
        } else {
            let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
            if matches!(ext, "rs" | "sh" | "md" | "yaml" | "yml" | "toml" | "py" | "txt") || dir.file_name().is_some_and(|d| d == ".ci") {
                out.push(p);
            }
        }
    }
}

#[test]
fn no_comment_or_doc_links_the_reference_material_as_if_it_were_in_the_repository() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    walk(&root, &mut files);
    assert!(files.iter().any(|f| f.ends_with("README.md")) && files.len() > 50, "walked the repository: {}", files.len());
    // Built here so that this file does not match itself.
    let needle = format!("{}/{}", "..", "shared");
    let mut found = Vec::new();
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else { continue };
        for (n, line) in text.lines().enumerate() {
            if line.contains(&needle) {
                found.push(format!("{}:{}: {}", f.strip_prefix(&root).unwrap_or(f).display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "say \"the reference material shipped beside the project\" (or name the file) instead of a path into the repository:\n{}",
        found.join("\n")
    );
}
