#include "ulvs/mgmt/config_write.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace ulvs::mgmt {

namespace {

std::string why(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

bool write_all(int fd, const std::string& text) {
    size_t off = 0;
    while (off < text.size()) {
        const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        off += size_t(n);
    }
    return true;
}

// A copy of `from` at `to`, itself through a temporary file and a rename, so FILE.bak is never
// half-written either (config files are small: a copy costs nothing and works on every file
// system, where a hard link may not).
std::expected<void, std::string> copy_file(const std::string& from, const std::string& to,
                                           mode_t mode) {
    const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return std::unexpected(why("cannot read " + from));
    std::string bytes;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const int e = errno;
            ::close(in);
            errno = e;
            return std::unexpected(why("cannot read " + from));
        }
        if (n == 0)
            break;
        bytes.append(buf, size_t(n));
    }
    ::close(in);
    std::string tmp = to + ".XXXXXX";
    const int out = ::mkstemp(tmp.data());
    if (out < 0)
        return std::unexpected(why("cannot create a file beside " + to));
    const bool ok = ::fchmod(out, mode) == 0 && write_all(out, bytes) && ::fsync(out) == 0;
    const int e = errno;
    ::close(out);
    if (!ok || ::rename(tmp.c_str(), to.c_str()) != 0) {
        const int e2 = ok ? errno : e;
        ::unlink(tmp.c_str());
        errno = e2;
        return std::unexpected(why("cannot write " + to));
    }
    return {};
}

} // namespace

std::expected<std::string, std::string> write_config_file(const std::string& path,
                                                          const std::string& text) {
    if (path.empty())
        return std::unexpected("no configuration file to write");
    // A symlink (/etc/ulvs/ulvs.yaml -> a file kept elsewhere): replace its target, keep the link.
    std::string target = path;
    if (char* real = ::realpath(path.c_str(), nullptr)) {
        target = real;
        std::free(real);
    }
    struct stat st {};
    const bool existed = ::stat(target.c_str(), &st) == 0;
    if (!existed && errno != ENOENT)
        return std::unexpected(why("cannot write " + path));
    const mode_t mode = existed ? (st.st_mode & 07777) : 0644;
    const std::string dir = target.substr(0, target.rfind('/') + 1);
    std::string tmp = target + ".XXXXXX";
    const int fd = ::mkstemp(tmp.data());
    if (fd < 0)
        return std::unexpected(why("cannot write " + path + ": no temporary file in " +
                                   (dir.empty() ? std::string(".") : dir)));
    bool ok = ::fchmod(fd, mode) == 0;
    if (ok && existed && ::geteuid() == 0)
        ok = ::fchown(fd, st.st_uid, st.st_gid) == 0;
    ok = ok && write_all(fd, text) && ::fsync(fd) == 0;
    int e = errno;
    ::close(fd);
    if (!ok) {
        ::unlink(tmp.c_str());
        errno = e;
        return std::unexpected(why("cannot write " + path));
    }
    std::string backup;
    if (existed) {
        backup = target + ".bak";
        if (auto c = copy_file(target, backup, mode); !c) {
            ::unlink(tmp.c_str());
            return std::unexpected(c.error() + " (the backup of " + path + "): nothing written");
        }
    }
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
        e = errno;
        ::unlink(tmp.c_str());
        errno = e;
        return std::unexpected(why("cannot write " + path));
    }
    // The rename itself durable: sync the directory (best effort: the file is in place).
    if (const int d = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        d >= 0) {
        ::fsync(d);
        ::close(d);
    }
    return backup;
}

} // namespace ulvs::mgmt
