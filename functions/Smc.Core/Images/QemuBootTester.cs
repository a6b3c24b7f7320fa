using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Smc.Boot;
using Smc.Core.Domain;
using Smc.Core.Options;

namespace Smc.Core.Images;

/// <summary>
/// Boots a raw disk in qemu (no network, the disk behind a snapshot overlay so it is never written) and judges from
/// the serial console whether it reached user space. Two ways: <see cref="BootKernelAsync"/> with the image's own
/// kernel, initramfs and GRUB arguments, where systemd runs a command from the kernel command line that prints a
/// one-time marker, the root file system's UUID and whether <c>local-fs.target</c> (every fstab mount) is active, then
/// powers off; and <see cref="BootFirmwareAsync"/> from the disk's own sectors (BIOS or UEFI firmware → GRUB → kernel →
/// init) until the serial console's login prompt. Known failures (kernel panic, the initramfs giving up on its root,
/// emergency mode, no bootable device, the UEFI shell) end an attempt at once; anything else at the timeout.
/// </summary>
public sealed class QemuBootTester(IOptions<VerifyOptions> options)
{
    private const int TailChars = 3000;

    /// <summary>OVMF writes nothing to the serial port until its boot manager runs: longer under TCG than SeaBIOS takes.</summary>
    private const int UefiSilenceSeconds = 90;

    /// <summary>What a boot loader writes when it starts an entry (GRUB: <c>Booting `Debian GNU/Linux'</c>; not SeaBIOS's <c>Booting from Hard Disk...</c>).</summary>
    private static readonly System.Text.RegularExpressions.Regex LoaderStartsEntry = new(@"Booting [`']", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>How long systemd ≥ 254 waits for a device fstab names, in the kernel attempt (its own default is 90 s).</summary>
    public const int DeviceTimeoutSeconds = 45;

    private static readonly string[] KernelFailures =
    [
        "Kernel panic", "Gave up waiting for root", "ALERT!", "(initramfs)", "You are in emergency mode", "Give root password for maintenance",
        "Cannot open access to console",
    ];

    /// <summary>
    /// What stops a boot from the disk's own sectors: the firmware finding nothing, GRUB giving up (its rescue or command
    /// prompt, or an entry's error waiting for a key) and the UEFI shell. Not any "error: " GRUB prints — GRUB for UEFI
    /// says "error: no suitable video mode found." on a machine without a display and boots on; an error that stops it
    /// is followed by one of these or by silence.
    /// </summary>
    private static readonly string[] FirmwareFailures =
        ["No bootable device", "Boot failed", "grub rescue>", "grub> ", "Press any key to continue", "Shell> ", "UEFI Interactive Shell", .. KernelFailures];

    private readonly VerifyOptions _options = options.Value;

    public bool Enabled => _options.Enabled;

    /// <summary>Boots the image's <paramref name="disks"/> with the kernel and initramfs GRUB names, on its own root; <paramref name="work"/> holds the extracted files.</summary>
    public async Task<BootAttempt> BootKernelAsync(IReadOnlyList<string> disks, BootTarget target, string work, CancellationToken cancellationToken)
    {
        string kernel = Path.Combine(work, "kernel");
        await File.WriteAllBytesAsync(kernel, target.Kernel, cancellationToken);
        List<string> args = Common(disks);
        args.AddRange(["-kernel", kernel]);
        if (target.Initramfs is not null)
        {
            string initrd = Path.Combine(work, "initrd");
            await File.WriteAllBytesAsync(initrd, target.Initramfs, cancellationToken);
            args.AddRange(["-initrd", initrd]);
        }

        // The marker is printed upper-cased (tr), so the kernel echoing its own command line can't be mistaken for it.
        string nonce = RandomNumberGenerator.GetHexString(16, lowercase: true);
        string begin = $"SMC-BOOT-{nonce.ToUpperInvariant()}-ROOT", end = $"SMC-BOOT-{nonce.ToUpperInvariant()}-END";
        string command = $"/bin/sh -c 'echo smc-boot-{nonce}-root | tr a-z A-Z; findmnt -no UUID /; systemctl is-active local-fs.target; echo smc-boot-{nonce}-end | tr a-z A-Z'";
        IEnumerable<string> kept = target.Arguments.Where(a => !a.StartsWith("console=", StringComparison.Ordinal) && !a.StartsWith("rootdelay=", StringComparison.Ordinal) && a is not ("quiet" or "splash") && !a.StartsWith("systemd.", StringComparison.Ordinal));
        // No rootdelay: initramfs-tools sleeps that long before it even looks for the root (its init), on top of its own
        // wait of up to 30 s for a root that hasn't come; the image's own rootdelay is dropped too (a sleep, not a check),
        // so a root that never comes fails in 30 s and one that exists mounts as soon as it shows up.
        // systemd.default_device_timeout_sec (systemd ≥ 254; older systemd ignores it and waits its default 90 s): a device
        // fstab names that never comes stops the boot in emergency mode after 45 s, the same verdict sooner; every disk
        // of the image is attached from power-on, so one that exists shows up at udev's coldplug, in seconds under TCG.
        string cmdline = string.Join(' ', kept) + $" console=ttyS0 panic=-1 systemd.default_device_timeout_sec={DeviceTimeoutSeconds} systemd.run=\"{command}\" systemd.run_success_action=poweroff systemd.run_failure_action=poweroff";
        args.AddRange(["-append", cmdline]);

        (string? verdict, bool? booted, string console, double seconds) = await RunAsync(args, text =>
        {
            int at = text.IndexOf(begin, StringComparison.Ordinal);
            int stop = at < 0 ? -1 : text.IndexOf(end, at, StringComparison.Ordinal);
            if (stop >= 0)
            {
                // Each line as the console shows it, e.g. "[   14.68] sh[218]: 5e0c1a2b-…" or "[   15.56] sh[221]: active".
                string segment = text[(at + begin.Length)..stop];
                string[] lines = segment.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                string? uuid = System.Text.RegularExpressions.Regex.Match(segment, "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}") is { Success: true } m ? m.Value : null;
                bool mounted = lines.Any(l => l == "active" || l.EndsWith(" active", StringComparison.Ordinal));
                if (target.RootUuid is not null && !string.Equals(uuid, target.RootUuid, StringComparison.OrdinalIgnoreCase))
                {
                    return (false, $"Reached user space, but on root {uuid ?? "(unknown)"}, not the image's {target.RootUuid}.");
                }

                return mounted
                    ? (true, $"Reached user space on its own root ({uuid ?? "UUID unknown"}) with every fstab file system mounted (local-fs.target active), in {{0}} s.")
                    : (false, $"Reached user space on root {uuid}, but local-fs.target is not active: an fstab mount failed ({string.Join(", ", lines)}).");
            }

            return Failure(text, KernelFailures);
        }, null, cancellationToken);
        return Attempt(BootAttempt.Kernel, verdict, booted, console, seconds);
    }

    /// <summary>
    /// Boots the system disk (the first of <paramref name="disks"/>) from its own sectors, until a login prompt on the serial console: with BIOS firmware
    /// (SeaBIOS), or with UEFI firmware (OVMF, <see cref="VerifyOptions.Ovmf"/>) for a disk that boots with UEFI. A new
    /// virtual machine's UEFI variables hold no boot entry, so the firmware starts the ESP's removable-media path, as a
    /// new cloud instance's does.
    /// </summary>
    public async Task<BootAttempt> BootFirmwareAsync(IReadOnlyList<string> disks, string work, bool uefi, CancellationToken cancellationToken)
    {
        List<string> args = Common(disks);
        if (uefi)
        {
            if (!File.Exists(_options.Ovmf))
            {
                return Attempt(BootAttempt.Firmware, $"No UEFI firmware at {_options.Ovmf} (SMC_VERIFY__OVMF; Debian's ovmf package): the boot from the image's own sectors was not tried.", null, "", 0);
            }

            args.AddRange(["-bios", _options.Ovmf]);
        }
        else
        {
            // SeaBIOS writes to the serial port when fw_cfg's etc/sercon-port holds the port (little-endian): its own lines
            // ("Booting from Hard Disk...") show where a boot that goes silent stopped.
            string sercon = Path.Combine(work, "sercon-port");
            await File.WriteAllBytesAsync(sercon, [0xF8, 0x03], cancellationToken);
            args.AddRange(["-fw_cfg", $"name=etc/sercon-port,file={sercon}"]);
        }

        string firmware = uefi ? "UEFI" : "BIOS";
        (string? verdict, bool? booted, string console, double seconds) = await RunAsync(args, text =>
            text.Contains(" login:", StringComparison.Ordinal)
                ? (true, $"{firmware} → boot loader → kernel → init: the serial console's login prompt came up, in {{0}} s.")
                : Failure(text, FirmwareFailures), text => AllowedSilence(text, uefi), cancellationToken);
        return Attempt(BootAttempt.Firmware, verdict, booted, console, seconds);
    }

    /// <summary>
    /// How long a firmware boot's console may stay silent, given what it has said so far. Until the boot loader starts an
    /// entry, <see cref="VerifyOptions.FirmwareSilenceSeconds"/> (a boot sector of zeros hangs silently; SeaBIOS and GRUB
    /// write); from then <see cref="VerifyOptions.LoaderSilenceSeconds"/>: GRUB reads the kernel and initramfs through
    /// the firmware's disk calls and the kernel unpacks itself before its console says a word — 9 s here under TCG on an
    /// idle machine, 20 s beside three busy processes, over 30 s on a loaded CI machine. UEFI: never under
    /// <see cref="UefiSilenceSeconds"/>.
    /// </summary>
    internal TimeSpan AllowedSilence(string console, bool uefi)
    {
        int seconds = LoaderStartsEntry.IsMatch(console) ? _options.LoaderSilenceSeconds : _options.FirmwareSilenceSeconds;
        return TimeSpan.FromSeconds(uefi ? Math.Max(seconds, UefiSilenceSeconds) : seconds);
    }

    /// <summary>qemu's arguments for every boot: the image's disks in order (the system disk first, /dev/vda), each behind a snapshot overlay.</summary>
    private List<string> Common(IReadOnlyList<string> disks) =>
    [
        "-accel", _options.Accel, "-m", $"{_options.MemoryMiB}", "-smp", "1", "-display", "none", "-vga", "none", "-no-reboot",
        "-serial", "stdio", "-monitor", "none", "-nic", "none",
        .. disks.SelectMany(d => new[] { "-drive", $"file={d},if=virtio,format=raw,snapshot=on" }),
    ];

    /// <summary>The first known failure the console shows, with what systemd said led to it (a device that never came, a unit whose dependency failed).</summary>
    private static (bool, string)? Failure(string text, string[] failures)
    {
        if (failures.FirstOrDefault(f => text.Contains(f, StringComparison.Ordinal)) is not { } found)
        {
            return null;
        }

        string clean = Tail(text[..text.IndexOf(found, StringComparison.Ordinal)]);
        string[] causes =
        [
            .. System.Text.RegularExpressions.Regex.Matches(clean, @"Timed out waiting for device ([^\s]+?)\.?(?=\s)").Select(m => $"timed out waiting for {m.Groups[1].Value}"),
            .. System.Text.RegularExpressions.Regex.Matches(clean, @"Dependency failed for ([^\r\n]+?)\.?(?=[\r\n])").Select(m => $"dependency failed for {m.Groups[1].Value.Trim()}"),
        ];
        string after = causes.Length > 0 ? $" after systemd {string.Join("; ", causes.Distinct().Take(4))}" : "";
        return (false, $"The console shows \"{found.Trim()}\"{after}.");
    }

    /// <param name="booted">null: qemu did not start, so nothing was tested (<c>NotRun</c>, not a failure of the image).</param>
    private static BootAttempt Attempt(string method, string? verdict, bool? booted, string console, double seconds) => new()
    {
        Method = method,
        Status = booted switch { true => BootTest.Booted, false => BootTest.Failed, null => BootTest.NotRun },
        Message = (verdict ?? "").Replace("{0}", Math.Round(seconds, 1).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal),
        Seconds = Math.Round(seconds, 1),
        ConsoleTail = Tail(console),
    };

    /// <summary>Runs qemu until <paramref name="judge"/> gives a verdict on the console so far, qemu exits, or the timeout.</summary>
    private async Task<(string? Verdict, bool? Booted, string Console, double Seconds)> RunAsync(List<string> args, Func<string, (bool Booted, string Message)?> judge, Func<string, TimeSpan>? silence, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(_options.QemuPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        args.ForEach(start.ArgumentList.Add);
        var console = new StringBuilder();
        Stopwatch clock = Stopwatch.StartNew();
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("qemu did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return ($"qemu could not be started ({_options.QemuPath}: {e.Message}); check SMC_VERIFY__QEMU.", null, "", 0);
        }

        using (process)
        {
            Task<string> errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(_options.TimeoutSeconds));
            (bool Booted, string Message)? verdict = null;
            char[] buffer = new char[8192];
            try
            {
                TimeSpan? silent;
                (verdict, silent) = await WatchAsync(process, console, buffer, judge, silence, timeout.Token);
                if (verdict is null && silent is { } waited)
                {
                    string last = Tail(console.ToString()).TrimEnd().Split('\n').LastOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "(nothing)";
                    verdict = (false, $"The console stayed silent for {waited.TotalSeconds:0} s after \"{last}\": the boot stopped there.");
                }
                else if (verdict is null && timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    verdict = (false, $"No verdict within {_options.TimeoutSeconds} s: the system did not reach user space.");
                }

                // A failure is seen on its first line; the next ones say more (initramfs-tools names the missing root device).
                if (verdict is { Booted: false } && !process.HasExited)
                {
                    using var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    drain.CancelAfter(TimeSpan.FromSeconds(3));
                    await WatchAsync(process, console, buffer, _ => null, null, drain.Token);
                }
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }

                await process.WaitForExitAsync(CancellationToken.None);
            }

            cancellationToken.ThrowIfCancellationRequested();
            string stderr = (await errors).Trim();
            verdict ??= (false, $"qemu exited ({process.ExitCode}) before the system reached user space{(stderr.Length > 0 ? ": " + stderr : ".")}");
            return (verdict.Value.Message, verdict.Value.Booted, console.ToString(), clock.Elapsed.TotalSeconds);
        }
    }

    /// <summary>
    /// Appends qemu's console output until <paramref name="judge"/> gives a verdict, qemu exits or <paramref name="stop"/>
    /// is cancelled (null then); <c>Silent</c> is the silence that ended it, when the console said nothing for as long as
    /// <paramref name="silence"/> allows after what it had said.
    /// </summary>
    private static async Task<((bool Booted, string Message)? Verdict, TimeSpan? Silent)> WatchAsync(Process process, StringBuilder console, char[] buffer, Func<string, (bool Booted, string Message)?> judge, Func<string, TimeSpan>? silence, CancellationToken stop)
    {
        string text = console.ToString();
        try
        {
            while (true)
            {
                // Each read may wait at most the silence allowed after what the console has said (none: until stop).
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(stop);
                TimeSpan? limit = silence?.Invoke(text);
                if (limit is { } allowed)
                {
                    quiet.CancelAfter(allowed);
                }

                int read;
                try
                {
                    read = await process.StandardOutput.ReadAsync(buffer, quiet.Token);
                }
                catch (OperationCanceledException) when (quiet.IsCancellationRequested && !stop.IsCancellationRequested)
                {
                    return (null, limit);
                }

                if (read == 0)
                {
                    break;
                }

                console.Append(buffer, 0, read);
                if (console.Length > 1 << 20)
                {
                    console.Remove(0, console.Length - (1 << 19));
                }

                text = console.ToString();
                if (judge(text) is { } verdict)
                {
                    return (verdict, null);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        return (null, null);
    }

    /// <summary>The console's last lines, control characters (terminal escapes, carriage returns) removed.</summary>
    public static string Tail(string console)
    {
        string text = console.Length > TailChars * 4 ? console[^(TailChars * 4)..] : console;
        text = System.Text.RegularExpressions.Regex.Replace(text, @"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r", "");
        text = new string([.. text.Where(c => c == '\n' || !char.IsControl(c))]);
        return text.Length > TailChars ? text[^TailChars..] : text;
    }
}
