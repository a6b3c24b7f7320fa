using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Smc.Testing;

/// <summary>
/// Test helpers for file-level captures: OCI layers applied to a directory as a container runtime does (whiteouts
/// remove lower paths, then GNU tar unpacks the entries with owners, modes and xattrs), and a tree described as lines
/// (path, type, mode, owner, size, content hash, link target, regular files' mtime seconds) that two trees compare by.
/// </summary>
public static class OciLayers
{
    public const string WhiteoutPrefix = ".wh.";

    /// <summary>The entry names of a tar, gzip or not.</summary>
    public static List<string> Entries(string tarFile)
    {
        using FileStream file = File.OpenRead(tarFile);
        bool gzip = file.ReadByte() == 0x1f && file.ReadByte() == 0x8b;
        file.Position = 0;
        using Stream content = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        var names = new List<string>();
        using var reader = new TarReader(content);
        while (reader.GetNextEntry() is { } entry)
        {
            names.Add(entry.Name);
        }

        return names;
    }

    /// <summary>Applies one layer (tar or tar+gzip) on top of <paramref name="target"/>.</summary>
    public static void Apply(string layer, string target)
    {
        foreach (string name in Entries(layer))
        {
            string file = Path.GetFileName(name.TrimEnd('/'));
            if (file.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
            {
                string victim = Path.Combine(target, Path.GetDirectoryName(name) ?? "", file[WhiteoutPrefix.Length..]);
                if (Directory.Exists(victim) && !File.GetAttributes(victim).HasFlag(FileAttributes.ReparsePoint))
                {
                    Directory.Delete(victim, recursive: true);
                }
                else
                {
                    File.Delete(victim);
                }
            }
        }

        Run("tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "--exclude=.wh.*", "-xpf", layer, "-C", target);
    }

    /// <summary>One line per path under <paramref name="root"/> (sorted), leaving out paths under <paramref name="except"/> (relative).</summary>
    public static List<string> Describe(string root, params string[] except)
    {
        string listing = Run("find", root, "-mindepth", "1", "-printf", "%P\t%y\t%m\t%U:%G\t%s\t%T@\t%l\n");
        var lines = new List<string>();
        foreach (string line in listing.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] f = line.Split('\t');
            if (except.Any(e => f[0] == e || f[0].StartsWith(e + "/", StringComparison.Ordinal)))
            {
                continue;
            }

            bool regular = f[1] == "f";
            string content = regular ? Hash(Path.Combine(root, f[0])) : "";
            string mtime = regular ? f[5].Split('.')[0] : "";
            // A directory's size is its file system's business (it keeps slots of removed entries).
            lines.Add(string.Join(' ', f[0], f[1], f[2], f[3], f[1] == "d" ? "" : f[4], mtime, content, f[6]));
        }

        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    public static string Hash(string path)
    {
        using FileStream f = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(f));
    }

    public static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Result}");
        }

        return stdout;
    }
}
