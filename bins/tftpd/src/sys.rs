//! The few operating-system calls std does not offer, apart from sockets
//! (those are netio's, inherited ones included): user lookup, privilege
//! drop, and reading or removing a file through a directory handle after
//! `chroot`. All `unsafe` of the binary is here.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::path::Path;

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The effective user id.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
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
    // SAFETY: all-zero is a valid passwd value; it is only read after a
    // successful getpwnam_r filled it.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0u8; 16384];
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer refers to a live local with the length given;
    // getpwnam_r writes strings only into `buf`.
    let rc = unsafe {
        libc::getpwnam_r(
            cname.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    if result.is_null() {
        return Ok(name.parse::<u32>().ok().map(|uid| User {
            name: cname,
            uid,
            gid: uid,
        }));
    }
    // SAFETY: getpwnam_r succeeded, so pw_name points to a NUL-terminated
    // string inside `buf`, which is still alive.
    let login = unsafe { CStr::from_ptr(pwd.pw_name) }.to_owned();
    Ok(Some(User {
        name: login,
        uid: pwd.pw_uid,
        gid: pwd.pw_gid,
    }))
}

/// Sets the supplementary groups (`initgroups`), the group and then the
/// user, and checks that root cannot be regained.
pub fn drop_privileges(user: &User) -> io::Result<()> {
    // SAFETY: the name is a valid C string; initgroups reads the group
    // database and sets this process's supplementary groups (glibc applies
    // it to every thread).
    check(unsafe { libc::initgroups(user.name.as_ptr(), user.gid as libc::gid_t) })?;
    // SAFETY: plain system calls on this process's credentials; glibc
    // applies them to every thread.
    check(unsafe { libc::setgid(user.gid as libc::gid_t) })?;
    // SAFETY: as above.
    check(unsafe { libc::setuid(user.uid as libc::uid_t) })?;
    // SAFETY: as above; this must fail once root was given up.
    if user.uid != 0 && unsafe { libc::setuid(0) } == 0 {
        return Err(io::Error::other("could regain root after setuid"));
    }
    Ok(())
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
        // SAFETY: `dir` is an open directory and `name` a C string; openat
        // returns a new descriptor or -1.
        let fd = unsafe {
            libc::openat(
                self.dir.as_raw_fd(),
                self.name.as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just returned by openat and is owned by nobody else.
        let mut file = unsafe { File::from_raw_fd(fd) };
        let mut data = Vec::new();
        io::Read::read_to_end(&mut file, &mut data)?;
        Ok(data)
    }

    /// Removes the file (works after `chroot` when permissions allow).
    pub fn remove(&self) -> io::Result<()> {
        // SAFETY: `dir` is an open directory and `name` a C string; unlinkat
        // only reads them.
        check(unsafe { libc::unlinkat(self.dir.as_raw_fd(), self.name.as_ptr(), 0) })
    }
}
