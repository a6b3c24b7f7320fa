using System.Diagnostics;
using System.Globalization;
using System.Text;
using Smc.Boot;
using Smc.Wire.Boot;

namespace Smc.Agent.Check;

/// <summary>What <c>check --fix</c> did for one finding: the files it changed (each with its backup) and what is left.</summary>
internal sealed record FixResult(string Id, bool Applied, string Message, IReadOnlyList<string> Backups);

/// <summary>
/// <c>smc-agent check --fix</c>: the safe fixes, on the source itself or a tree mounted with <c>--root</c>. Device
/// names become UUIDs in <c>/etc/fstab</c> and in GRUB's <c>root=</c> (the UUID read from the superblock of the file
/// system mounted at that point now); missing virtio drivers are listed where the distribution's initramfs tool reads
/// them (<c>/etc/initramfs-tools/modules</c>, <c>/etc/dracut.conf.d</c>) and the initramfs is rebuilt with that tool
/// (inside the tree, with <c>chroot</c>, when it is not this machine's root). Every changed file is first copied to
/// <c>FILE.smc-backup-TIME</c>; nothing else is touched.
/// </summary>
internal static class SourceFixer
{
    public static List<FixResult> Fix(string root, PreflightReport report, TimeProvider clock, TextWriter log)
    {
        var tree = new DirectoryTree(root);
        string stamp = clock.GetUtcNow().ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        List<MountedVolume> mounted = SourceVolumes.Mounted(tree.Root);
        var results = new List<FixResult>();
        if (Failed(report, "fstab.devices"))
        {
            results.Add(FixFstab(tree, mounted, stamp));
        }

        if (Failed(report, "boot.root"))
        {
            results.Add(FixGrubRoot(tree, mounted, stamp));
        }

        if (Failed(report, "drivers.virtio"))
        {
            results.Add(FixVirtio(tree, stamp, log));
        }

        return results;
    }

    private static bool Failed(PreflightReport report, string id) => report.Checks.Any(c => c.Id == id && c.Status == BootCheck.Fail);

    /// <summary>Each fstab line whose spec is a device name gets <c>UUID=</c> of the file system mounted at its mount point (or on that device, on the source itself).</summary>
    private static FixResult FixFstab(DirectoryTree tree, List<MountedVolume> mounted, string stamp)
    {
        string path = tree.Resolve("/etc/fstab")!;
        string[] lines = File.ReadAllLines(path);
        var changed = new List<string>();
        var left = new List<string>();
        for (int i = 0; i < lines.Length; i++)
        {
            string[] f = lines[i].Split('#')[0].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 3 || !BootVolume.IsDeviceName(f[0]) || BootRules.IsVirtual(f[0], f[2]))
            {
                continue;
            }

            string? uuid = UuidFor(tree, mounted, f[0], f[1]);
            if (uuid is null)
            {
                left.Add($"{f[1]} ({f[0]}: not mounted here, its UUID unknown)");
                continue;
            }

            int at = lines[i].IndexOf(f[0], StringComparison.Ordinal);
            lines[i] = lines[i][..at] + "UUID=" + uuid + lines[i][(at + f[0].Length)..];
            changed.Add($"{f[1]}: {f[0]} → UUID={uuid}");
        }

        if (changed.Count == 0)
        {
            return new FixResult("fstab.devices", false, "Nothing changed: " + string.Join("; ", left) + ".", []);
        }

        string backup = Rewrite(path, string.Join('\n', lines) + "\n", stamp);
        return new FixResult("fstab.devices", left.Count == 0, $"/etc/fstab: {string.Join("; ", changed)}{(left.Count == 0 ? "" : "; left as they were: " + string.Join("; ", left))}.", [backup]);
    }

    /// <summary>GRUB's <c>root=/dev/…</c> becomes <c>root=UUID=</c> of the file system mounted at <c>/</c>, in grub.cfg and (so update-grub keeps it) /etc/default/grub.</summary>
    private static FixResult FixGrubRoot(DirectoryTree tree, List<MountedVolume> mounted, string stamp)
    {
        string? uuid = mounted.FirstOrDefault(m => m.MountPoint == "/")?.Volume.Uuid;
        if (uuid is null)
        {
            return new FixResult("boot.root", false, "The root file system's UUID could not be read; root= left as it was.", []);
        }

        var backups = new List<string>();
        foreach (string cfg in new[] { "/boot/grub/grub.cfg", "/boot/grub2/grub.cfg" })
        {
            if (tree.Resolve(cfg) is { } path && File.Exists(path))
            {
                string text = File.ReadAllText(path);
                string fixedText = System.Text.RegularExpressions.Regex.Replace(text, @"root=/dev/(?!disk/by-|mapper/|md)[^\s]+", "root=UUID=" + uuid);
                if (fixedText != text)
                {
                    backups.Add(Rewrite(path, fixedText, stamp));
                }
            }
        }

        if (tree.Resolve("/etc/default/grub") is { } defaults && File.Exists(defaults))
        {
            string text = File.ReadAllText(defaults);
            string fixedText = System.Text.RegularExpressions.Regex.Replace(text, @"^(\s*GRUB_DISABLE_LINUX_UUID\s*=\s*)""?true""?", "$1false", System.Text.RegularExpressions.RegexOptions.Multiline);
            if (fixedText != text)
            {
                backups.Add(Rewrite(defaults, fixedText, stamp));
            }
        }

        return new FixResult("boot.root", backups.Count > 0, backups.Count > 0 ? $"root=UUID={uuid} in the GRUB configuration." : "No root=/dev/… found to change.", backups);
    }

    /// <summary>Lists the missing virtio drivers for the initramfs tool and rebuilds the initramfs of the kernel that boots.</summary>
    private static FixResult FixVirtio(DirectoryTree tree, string stamp, TextWriter log)
    {
        string? version = tree.List("/boot").Where(f => f.StartsWith("vmlinuz-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).LastOrDefault()?["vmlinuz-".Length..];
        if (version is null)
        {
            return new FixResult("drivers.virtio", false, "No kernel in /boot to rebuild an initramfs for.", []);
        }

        var backups = new List<string>();
        string drivers = string.Join(' ', BootRules.VirtioDrivers);
        string[] command;
        if (tree.IsDirectory("/etc/initramfs-tools"))
        {
            string modules = Path.Combine(tree.Resolve("/etc/initramfs-tools")!, "modules");
            string existing = File.Exists(modules) ? File.ReadAllText(modules) : "";
            string[] listed = [.. existing.Split('\n').Select(l => l.Split('#')[0].Trim())];
            string[] missing = [.. BootRules.VirtioDrivers.Where(d => !listed.Contains(d))];
            if (missing.Length > 0)
            {
                string text = existing.Length == 0 || existing.EndsWith('\n') ? existing : existing + "\n";
                text += "# virtio drivers for the migration target (smc-agent check --fix)\n" + string.Join('\n', missing) + "\n";
                backups.Add(File.Exists(modules) ? Rewrite(modules, text, stamp) : Create(modules, text));
            }

            command = ["update-initramfs", "-u", "-k", version];
        }
        else if (tree.IsDirectory("/etc/dracut.conf.d") || tree.IsFile("/usr/bin/dracut") || tree.IsFile("/usr/sbin/dracut"))
        {
            string conf = Path.Combine(tree.Resolve("/etc")!, "dracut.conf.d", "90-smc-virtio.conf");
            Directory.CreateDirectory(Path.GetDirectoryName(conf)!);
            backups.Add(Create(conf, $"# virtio drivers for the migration target (smc-agent check --fix)\nadd_drivers+=\" {drivers} \"\n"));
            string image = tree.IsFile($"/boot/initramfs-{version}.img") ? $"/boot/initramfs-{version}.img" : $"/boot/initrd-{version}";
            command = ["dracut", "-f", image, version];
        }
        else
        {
            return new FixResult("drivers.virtio", false, "Neither initramfs-tools nor dracut is installed: add the virtio drivers to the initramfs with the distribution's own tool.", []);
        }

        (int exit, string output) = RunInTree(tree, command);
        log.WriteLine(output.TrimEnd());
        return exit == 0
            ? new FixResult("drivers.virtio", true, $"Listed {drivers} and rebuilt the initramfs of {version} ({string.Join(' ', command)}).", backups)
            : new FixResult("drivers.virtio", false, $"Listed {drivers}, but rebuilding the initramfs failed ({string.Join(' ', command)} exited {exit}): run it on the source.", backups);
    }

    /// <summary>Runs a tool of the tree: directly on this machine's root, else under <c>chroot</c>.</summary>
    private static (int Exit, string Output) RunInTree(DirectoryTree tree, string[] command)
    {
        var start = new ProcessStartInfo(tree.Root == "/" ? command[0] : "chroot") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (tree.Root != "/")
        {
            start.ArgumentList.Add(tree.Root);
            start.ArgumentList.Add(command[0]);
        }

        foreach (string arg in command.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            using Process process = Process.Start(start)!;
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (127, e.Message);
        }
    }

    /// <summary>The UUID for an fstab entry: the file system mounted at its mount point in the tree, else (on the source itself) the one on its device.</summary>
    private static string? UuidFor(DirectoryTree tree, List<MountedVolume> mounted, string device, string mountPoint)
    {
        if (mounted.FirstOrDefault(m => m.MountPoint == mountPoint) is { Volume.Uuid: { } uuid })
        {
            return uuid;
        }

        return tree.Root == "/" && File.Exists(device) ? SourceVolumes.Probe(device).Uuid : null;
    }

    /// <summary>Copies <paramref name="path"/> to its backup (mode kept), then replaces it atomically; returns the backup's path.</summary>
    private static string Rewrite(string path, string text, string stamp)
    {
        string backup = $"{path}.smc-backup-{stamp}";
        File.Copy(path, backup, overwrite: false);
        string temp = path + ".smc-new";
        File.WriteAllText(temp, text, new UTF8Encoding(false));
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temp, File.GetUnixFileMode(path));
        File.Move(temp, path, overwrite: true);
        return backup;
    }

    /// <summary>A new file (no backup: nothing was there); returns its path so the report lists it.</summary>
    private static string Create(string path, string text)
    {
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path + " (new)";
    }
}
