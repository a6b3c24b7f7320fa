using System.Globalization;
using System.Text.RegularExpressions;

namespace Smc.Agent.Platform;

/// <summary>
/// The agent's state directory (journals, manifests, listings, a container round's tar of the root file system): only
/// the agent's user may read it. The directory is 0700 and every file 0600 (the agent runs with umask 077, the unit
/// with <c>UMask=0077</c>); a container round's spool — a plaintext copy of the root file system — lives only while its
/// round is pending: it is deleted at the commit, and swept once the control plane no longer lists its round (failed,
/// stopped, deleted job), at every heartbeat and so at start.
/// </summary>
internal static partial class StateDirectory
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates the directory 0700, or makes an existing one 0700.</summary>
    public static string Ensure(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return path;
        }

        Directory.CreateDirectory(path, Private);
        File.SetUnixFileMode(path, Private);
        return path;
    }

    /// <summary>Deletes spools (<c>{job}-r{round}.tar</c> and their <c>.partial</c>) of rounds not in <paramref name="pending"/>; returns how many.</summary>
    public static int SweepSpools(string path, IEnumerable<(string JobId, int Round)> pending, Action<string> log)
    {
        if (!Directory.Exists(path))
        {
            return 0;
        }

        HashSet<(string, int)> keep = [.. pending];
        int removed = 0;
        foreach (string file in Directory.EnumerateFiles(path))
        {
            Match m = Spool().Match(Path.GetFileName(file));
            if (!m.Success || keep.Contains((m.Groups["job"].Value, int.Parse(m.Groups["round"].Value, CultureInfo.InvariantCulture))))
            {
                continue;
            }

            try
            {
                File.Delete(file);
                removed++;
                log($"removed {Path.GetFileName(file)}: its round is no longer pending");
            }
            catch (IOException e)
            {
                log($"can't remove {Path.GetFileName(file)} ({e.Message})");
            }
        }

        return removed;
    }

    [GeneratedRegex(@"^(?<job>j-[A-Za-z0-9]+)-r(?<round>\d{1,9})\.tar(\.partial)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Spool();
}
