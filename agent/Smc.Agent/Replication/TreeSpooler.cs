using Smc.Agent.Control;
using Smc.Wire.Agent;

namespace Smc.Agent.Replication;

/// <summary>The file-level capture of a ContainerImage round: the root tree spooled as one tar, with its listing beside it.</summary>
internal sealed class TreeSpooler(AgentConfig config, ControlPlaneClient client, AgentCommand command, string jobId, string stateDir, Action<string> log)
{
    /// <summary>Where a container round's tar is kept until the round is committed (a resumed round reads the same one).</summary>
    public string SpoolPath => Path.Combine(stateDir, $"{jobId}-r{command.Round}.tar");

    /// <summary>Where the listing of a round's capture is kept: the next round's layer holds what differs from it.</summary>
    private string ListingPath(int round) => Path.Combine(stateDir, $"{jobId}-r{round}.listing.json");

    /// <summary>
    /// The file-level capture of a container round, once per round: the root tree as one tar (Smc.Files.TreeTar) in the
    /// state directory — the whole tree, or with a layer base only what changed since that round's listing (whiteouts for
    /// what is gone). A resumed round reuses it, so what was uploaded and what is left belong to one capture.
    /// </summary>
    public async Task<string> SpoolAsync(CancellationToken cancellationToken)
    {
        if (File.Exists(SpoolPath))
        {
            log($"round {command.Round}: the file system was captured already ({RoundRunner.Human(new FileInfo(SpoolPath).Length)} of tar)");
            return SpoolPath;
        }

        string root = config.Root ?? "/";
        var skip = new List<string> { Path.GetFullPath(stateDir) };
        var skipFiles = new List<string>();
        if (Environment.ProcessPath is { } self)
        {
            skipFiles.Add(self);
        }

        if (root == "/" && File.Exists("/proc/swaps"))
        {
            skipFiles.AddRange(File.ReadAllLines("/proc/swaps").Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length > 1 && f[1] == "file").Select(f => f[0]));
        }

        Smc.Files.TreeListing? previous = null;
        if (command.LayerBase is int layerBase)
        {
            try
            {
                previous = File.Exists(ListingPath(layerBase)) ? Smc.Files.TreeListing.Deserialize(File.ReadAllBytes(ListingPath(layerBase))) : null;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException)
            {
                log($"local listing of round {layerBase} unreadable ({e.Message}); asking the control plane");
            }

            if (previous is null)
            {
                log($"round {command.Round}: the listing of round {layerBase} is not kept here; fetching it from the control plane");
                previous = await ControlPlaneClient.ShortRetry.ExecuteAsync(async ct => await client.ListingAsync(config.Credential, jobId, layerBase, ct), cancellationToken);
            }
        }

        string partial = SpoolPath + ".partial";
        Smc.Files.TreeCaptureStats stats;
        await using (FileStream output = new(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true))
        {
            stats = await Smc.Files.TreeTar.WriteAsync(root, output, new Smc.Files.TreeCaptureOptions
            {
                Exclude = [.. skip.Where(p => p.StartsWith(root.TrimEnd('/') + "/", StringComparison.Ordinal)).Select(p => p[root.TrimEnd('/').Length..]), .. command.ExcludePaths],
                Include = command.IncludePaths,
                SkipFiles = skipFiles,
            }, previous, cancellationToken);
        }

        // This capture's listing first, then its tar: a tar on disk always has its listing beside it. Listings of other
        // rounds go (the control plane names this round, or asks for a whole tree, from now on).
        string listingTemp = ListingPath(command.Round) + ".tmp";
        await File.WriteAllBytesAsync(listingTemp, stats.Listing.Serialize(), cancellationToken);
        File.Move(listingTemp, ListingPath(command.Round), overwrite: true);
        File.Move(partial, SpoolPath, overwrite: true);
        foreach (string old in Directory.EnumerateFiles(stateDir, $"{jobId}-r*.listing.json").Where(f => f != ListingPath(command.Round) && (command.LayerBase is not int b || f != ListingPath(b))))
        {
            File.Delete(old);
        }

        log($"round {command.Round}: captured {root}{(previous is null ? "" : $" against round {command.LayerBase}")}: {stats.Files} files, {stats.Directories} directories, {stats.Symlinks} symlinks, {stats.HardLinks} hard links, {RoundRunner.Human(stats.Bytes)}"
            + (previous is null ? "" : $"; {stats.Unchanged} unchanged, {stats.Whiteouts} removed")
            + $"; {stats.Skipped.Count} path(s) left out");
        return SpoolPath;
    }
}
