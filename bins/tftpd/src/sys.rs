//! The few operating-system calls std does not offer, apart from sockets
//! (those are netio's, inherited ones included): user lookup, privilege
//! drop, reading or removing a file through a directory handle after
//! `chroot`, and blocking the termination signals (the pid file keeper).
//! All through `nix`'s safe wrappers: the binary has no `unsafe`.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::stat::Mode;
use nix::unistd::{self, Gid, Uid, UnlinkatFlags};

fn os(err: Errno) -> io::Error {
    io::Error::from(err)
}

/// The effective user id.
pub fn euid() -> u32 {
    unistd::geteuid().as_raw()
}

/// A user from the password database.
#[derive(Debug, Clone)]
pub struct User {
    /// Login name.
    pub name: CString,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
}

/// Looks `name` up (`getpwnam_r`); a number is taken as a uid.
pub fn lookup_user(name: &str) -> io::Result<Option<User>> {
    let cname = CString::new(name).map_err(|_| io::Error::other("user name with NUL"))?;
    match unistd::User::from_name(name).map_err(os)? {
        Some(pw) => Ok(Some(User {
            name: CString::new(pw.name).map_err(|_| io::Error::other("user name with NUL"))?,
            uid: pw.uid.as_raw(),
            gid: pw.gid.as_raw(),
        })),
        None => Ok(name.parse::<u32>().ok().map(|uid| User {
            name: cname,
            uid,
            gid: uid,
        })),
    }
}

/// Sets the supplementary groups (`initgroups`), the group and then the
/// user, and checks that root cannot be regained. glibc applies each call to
/// every thread of the process.
pub fn drop_privileges(user: &User) -> io::Result<()> {
    let gid = Gid::from_raw(user.gid);
    unistd::initgroups(&user.name, gid).map_err(os)?;
    unistd::setgid(gid).map_err(os)?;
    unistd::setuid(Uid::from_raw(user.uid)).map_err(os)?;
    if user.uid != 0 && unistd::setuid(Uid::from_raw(0)).is_ok() {
        return Err(io::Error::other("could regain root after setuid"));
    }
    Ok(())
}

/// Blocks SIGTERM and SIGINT for the calling thread (the pid file keeper
/// runs single-threaded): they stay pending and never end the process.
pub fn ignore_termination_signals() -> io::Result<()> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    set.thread_block().map_err(os)
}

/// A file reached through a handle on its directory, so it can still be
/// read or removed after `chroot` (the pid file, the `-m` rules).
#[derive(Debug)]
pub struct DirEntry {
    dir: File,
    name: CString,
}

impl DirEntry {
    /// Writes the pid to `path` and keeps a handle on its directory.
    pub fn create(path: &Path) -> io::Result<Self> {
        std::fs::write(path, format!("{}\n", std::process::id()))?;
        Self::at(path)
    }

    /// A handle on `path`'s directory and its name, without touching it.
    pub fn at(path: &Path) -> io::Result<Self> {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let dir = File::open(parent)?;
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::other("pid file has no name"))?;
        let name = CString::new(std::os::unix::ffi::OsStrExt::as_bytes(name))
            .map_err(|_| io::Error::other("pid file name with NUL"))?;
        Ok(Self { dir, name })
    }

    /// Reads the whole file again (a file replaced by rename is seen).
    pub fn read(&self) -> io::Result<Vec<u8>> {
        let fd = openat(
            &self.dir,
            self.name.as_c_str(),
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(os)?;
        let mut data = Vec::new();
        io::Read::read_to_end(&mut File::from(fd), &mut data)?;
        Ok(data)
    }

    /// Removes the file (works after `chroot` when permissions allow).
    pub fn remove(&self) -> io::Result<()> {
        unistd::unlinkat(&self.dir, self.name.as_c_str(), UnlinkatFlags::NoRemoveDir).map_err(os)
    }
}
