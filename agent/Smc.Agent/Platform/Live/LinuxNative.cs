using System.Runtime.InteropServices;

namespace Smc.Agent.Platform.Live;

/// <summary>
/// The few Linux calls live sources need that .NET doesn't offer: <c>open</c> with <c>O_DIRECT</c>, and the file-system
/// ioctls <c>FIFREEZE</c>, <c>FITHAW</c> and <c>FS_IOC_GETFSMAP</c> (linux/fs.h, linux/fsmap.h), and <c>mount</c> for tracefs.
/// </summary>
internal static partial class LinuxNative
{
    /// <summary><c>_IOWR('X', 119, int)</c>.</summary>
    public const ulong FiFreeze = 0xC0045877;

    /// <summary><c>_IOWR('X', 120, int)</c>.</summary>
    public const ulong FiThaw = 0xC0045878;

    /// <summary><c>_IOWR('X', 59, struct fsmap_head)</c>; the head is 192 bytes.</summary>
    public const ulong GetFsMap = 0xC0C0583B;

    public const int EBUSY = 16;
    public const int EINVAL = 22;
    public const int ENOTTY = 25;
    public const int EOPNOTSUPP = 95;

    private const int ORdOnly = 0;
    private const int OCloExec = 0x80000;

    /// <summary>O_DIRECT differs between architectures (asm-generic 0x4000; arm64 0x10000).</summary>
    private static int ODirect => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x10000 : 0x4000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint Umask(uint mask);

    /// <summary>Sets the process's file-creation mask (<c>umask(2)</c>); returns the previous one.</summary>
    public static uint SetUmask(uint mask) => Umask(mask);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int Ioctl(int fd, ulong request, void* argument);

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Mount(string source, string target, string type, ulong flags, IntPtr data);

    /// <summary>Opens a path read-only (a directory too), close-on-exec; throws <see cref="IOException"/> with the errno.</summary>
    public static int OpenReadOnly(string path, bool direct = false)
    {
        int fd = Open(path, ORdOnly | OCloExec | (direct ? ODirect : 0));
        return fd >= 0 ? fd : throw Error($"open {path}");
    }

    public static void CloseFd(int fd) => _ = Close(fd);

    /// <summary>An ioctl with an int argument (FIFREEZE, FITHAW); returns 0 or the errno.</summary>
    public static unsafe int IoctlInt(int fd, ulong request)
    {
        int argument = 0;
        return Ioctl(fd, request, &argument) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>An ioctl on a buffer (GETFSMAP); returns 0 or the errno.</summary>
    public static unsafe int IoctlBuffer(int fd, ulong request, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            return Ioctl(fd, request, p) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
    }

    /// <summary>mount -t tracefs nodev TARGET; returns 0 or the errno.</summary>
    public static int MountTracefs(string target) => Mount("nodev", target, "tracefs", 0, IntPtr.Zero) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public static IOException Error(string what)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new IOException($"{what}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);
    }
}
