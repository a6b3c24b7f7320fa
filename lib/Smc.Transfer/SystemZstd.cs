using System.Runtime.InteropServices;

namespace Smc.Transfer;

/// <summary>
/// zstd compression through the machine's own <c>libzstd.so.1</c>, when it has one (nearly every Linux does: systemd and
/// apt need it). Measured here, the C library's level 1 compresses text-like chunks ~1.3× faster per core than the
/// managed port (ZstdSharp), which is the agent pipeline's slowest stage on compressible data. Both write standard zstd
/// frames, so what either writes the other reads. Decompression uses it too where it is there (the control plane opens
/// every chunk at assembly and on each image read).
/// </summary>
/// <remarks>
/// Written by hand: no served NuGet package binds the system library (the ones that bind libzstd ship their own native
/// build, which a single-file agent would have to unpack). Only the five entry points below are used.
/// </remarks>
public static partial class SystemZstd
{
    private const string Library = "libzstd.so.1";

    /// <summary>Set to <c>managed</c> to always use ZstdSharp (to compare the two, or to rule the library out).</summary>
    public const string OverrideVariable = "SMC_ZSTD";

    [ThreadStatic]
    private static ZstdContext? t_context;

    [ThreadStatic]
    private static ZstdContext? t_decompression;

    /// <summary>True when the system library loaded and <see cref="OverrideVariable"/> does not say <c>managed</c>.</summary>
    public static bool IsAvailable { get; } = Probe();

    /// <summary>The library's version, e.g. 10504 for 1.5.4; 0 when it is not available.</summary>
    public static int Version { get; private set; }

    /// <summary>The zstd to use when the caller has no preference: the system's when there is one.</summary>
    public static ZstdLibrary Preferred => IsAvailable ? ZstdLibrary.System : ZstdLibrary.Managed;

    /// <summary>Compresses <paramref name="source"/> into <paramref name="destination"/> as one zstd frame; returns its length.</summary>
    /// <exception cref="InvalidOperationException">The library reported an error (e.g. the destination is too small).</exception>
    public static int Compress(ReadOnlySpan<byte> source, Span<byte> destination, int level)
    {
        if (!IsAvailable)
        {
            throw new InvalidOperationException($"{Library} is not available here.");
        }

        ZstdContext context = t_context ??= new ZstdContext(ZSTD_createCCtx(), decompression: false);
        nuint written = ZSTD_compressCCtx(
            context, ref MemoryMarshal.GetReference(destination), (nuint)destination.Length,
            ref MemoryMarshal.GetReference(source), (nuint)source.Length, level);
        if (ZSTD_isError(written) != 0)
        {
            throw new InvalidOperationException($"{Library}: {Marshal.PtrToStringUTF8(ZSTD_getErrorName(written))}");
        }

        return checked((int)written);
    }

    /// <summary>Decompresses one zstd frame into <paramref name="destination"/>; returns the bytes written.</summary>
    /// <exception cref="InvalidDataException">Not a valid frame, or larger than the destination.</exception>
    public static int Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (!IsAvailable)
        {
            throw new InvalidOperationException($"{Library} is not available here.");
        }

        ZstdContext context = t_decompression ??= new ZstdContext(ZSTD_createDCtx(), decompression: true);
        nuint written = ZSTD_decompressDCtx(
            context, ref MemoryMarshal.GetReference(destination), (nuint)destination.Length,
            ref MemoryMarshal.GetReference(source), (nuint)source.Length);
        if (ZSTD_isError(written) != 0)
        {
            throw new InvalidDataException($"{Library}: {Marshal.PtrToStringUTF8(ZSTD_getErrorName(written))}");
        }

        return checked((int)written);
    }

    /// <summary>The largest frame <paramref name="length"/> bytes can compress into (zstd's ZSTD_COMPRESSBOUND).</summary>
    public static int CompressBound(int length) =>
        length + (length >> 8) + (length < (128 << 10) ? ((128 << 10) - length) >> 11 : 0);

    private static bool Probe()
    {
        if (string.Equals(Environment.GetEnvironmentVariable(OverrideVariable), "managed", StringComparison.OrdinalIgnoreCase)
            || !OperatingSystem.IsLinux() || !NativeLibrary.TryLoad(Library, out _))
        {
            return false;
        }

        try
        {
            Version = (int)ZSTD_versionNumber();
            return Version >= 10400;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport(Library)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial uint ZSTD_versionNumber();

    [LibraryImport(Library)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial IntPtr ZSTD_createCCtx();

    [LibraryImport(Library)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial nuint ZSTD_freeCCtx(IntPtr context);

    [LibraryImport(Library)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial nuint ZSTD_compressCCtx(ZstdContext context, ref byte destination, nuint capacity, ref byte source, nuint length, int level);

    [LibraryImport(Library)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial uint ZSTD_isError(nuint code);

    [LibraryImport(Library)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial IntPtr ZSTD_createDCtx();

    [LibraryImport(Library)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial nuint ZSTD_freeDCtx(IntPtr context);

    [LibraryImport(Library)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial nuint ZSTD_decompressDCtx(ZstdContext context, ref byte destination, nuint capacity, ref byte source, nuint length);

    [LibraryImport(Library)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial IntPtr ZSTD_getErrorName(nuint code);

    /// <summary>A zstd context (ZSTD_CCtx* or ZSTD_DCtx*), one per thread, freed with the thread by its own free function.</summary>
    private sealed class ZstdContext : SafeHandle
    {
        private readonly bool _decompression;

        public ZstdContext(IntPtr context, bool decompression)
            : base(IntPtr.Zero, ownsHandle: true)
        {
            if (context == IntPtr.Zero)
            {
                throw new InvalidOperationException($"{Library}: {(decompression ? "ZSTD_createDCtx" : "ZSTD_createCCtx")} failed.");
            }

            SetHandle(context);
            _decompression = decompression;
        }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            _ = _decompression ? ZSTD_freeDCtx(handle) : ZSTD_freeCCtx(handle);
            return true;
        }
    }
}

/// <summary>Which zstd compresses: the managed port (ZstdSharp, always there) or the machine's libzstd.</summary>
public enum ZstdLibrary
{
    Managed,
    System,
}
