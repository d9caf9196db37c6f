//! `-S`/`--sshlogin` and `--sshloginfile` as far as this machine goes: GNU parallel's
//! `:` (or `N/:`, N jobs at once) is this machine, which is where `fanout map` runs jobs.
//! A remote host is refused, with a hint, rather than run here by mistake.

use std::path::Path;

/// What the logins say of this machine: the number of jobs the first `N/:` gives, if one
/// does. An error names the first login that is not this machine.
pub fn local_jobs(logins: &[String]) -> Result<Option<usize>, String> {
    let mut jobs = None;
    for login in logins.iter().flat_map(|l| l.split(',')).map(str::trim) {
        if login.is_empty() || login == ":" {
            continue;
        }
        let count = login
            .strip_suffix("/:")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n > 0);
        match count {
            // The first count given is the one, as in GNU parallel.
            Some(n) => jobs = jobs.or(Some(n)),
            None => {
                return Err(format!(
                    "`--sshlogin {login}`: fanout map runs jobs on this machine only, which \
                     is `:` (or `N/:`, N jobs at once)"
                ));
            }
        }
    }
    Ok(jobs)
}

/// The logins a `--sshloginfile` lists, one a line, blank lines and `#` comments left
/// out; `..` is GNU parallel's own file, `~/.parallel/sshloginfile`.
pub fn read_login_file(path: &Path) -> Result<Vec<String>, String> {
    let path = match path.to_str() {
        Some("..") => std::env::var_os("HOME")
            .map(|home| Path::new(&home).join(".parallel/sshloginfile"))
            .unwrap_or_else(|| path.to_path_buf()),
        _ => path.to_path_buf(),
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|err| format!("cannot read the --sshloginfile {}: {err}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logins(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn this_machine_is_a_colon_with_an_optional_number_of_jobs() {
        assert_eq!(local_jobs(&logins(&[":"])), Ok(None));
        assert_eq!(local_jobs(&logins(&["2/:"])), Ok(Some(2)));
        assert_eq!(local_jobs(&logins(&[":,3/:", " 4/: "])), Ok(Some(3)));
        assert_eq!(local_jobs(&[]), Ok(None));
        for remote in ["server", "me@host", "2/host", "0/:", "x/:"] {
            let err = local_jobs(&logins(&[":", remote])).unwrap_err();
            assert!(err.contains(&format!("`--sshlogin {remote}`")), "{err}");
        }
    }

    #[test]
    fn login_files_skip_blank_lines_and_comments() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logins");
        std::fs::write(&path, ":\n# a comment\n\n  3/:  \n").unwrap();
        assert_eq!(read_login_file(&path), Ok(logins(&[":", "3/:"])));
        let err = read_login_file(&dir.path().join("none")).unwrap_err();
        assert!(err.contains("cannot read the --sshloginfile"), "{err}");
    }
}
