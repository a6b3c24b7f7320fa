using System.CommandLine;
using Smc.Agent;
using Smc.Agent.Commands;
using Smc.Agent.Control;
using Spectre.Console;

// smc-agent: the source-side agent of SMC Serverless. Exit codes: see ExitCodes and README.md.
IAnsiConsole console = AnsiConsole.Console;
IAnsiConsole errors = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

var config = new Option<string>("--config") { Description = "Agent config file (holds the source credential, mode 0600).", Recursive = true, DefaultValueFactory = _ => AgentConfig.DefaultPath };
var disk = new Option<string[]>("--disk") { Description = "Disk to read: a block device or a disk image file (repeatable; default: all disks).", AllowMultipleArgumentsPerToken = false };
var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
var server = new Option<string>("--server") { Description = "Control plane URL, e.g. http://10.0.0.5:7071.", Required = true };
var code = new Option<string?>("--code") { Description = "Activation code from POST /api/v1/access-tokens (or SMC_ACTIVATION_CODE in the environment, which other users can't read the way they read a command line)." };
var name = new Option<string?>("--name") { Description = "Source server name (default: the host name)." };
var force = new Option<bool>("--force") { Description = "Register again even if this agent is registered already." };
var unitDir = new Option<string>("--unit-dir") { Description = "Where the systemd unit goes.", DefaultValueFactory = _ => InstallCommand.DefaultUnitDir };
var noStart = new Option<bool>("--no-start") { Description = "Write or remove the unit only; don't call systemctl." };
var purge = new Option<bool>("--purge") { Description = "Also delete the config file (the source credential)." };

var inspect = new Command("inspect", "Show disks, partition tables, partitions, file systems and used bytes.") { disk, json };
inspect.SetAction(p => Guard(() => InspectCommand.Run(p.GetValue(disk) ?? [], p.GetValue(json), console, errors)));

var rootDir = new Option<string?>("--root") { Description = "Root file system a ContainerImage job captures (default: /)." };
var register = new Command("register", "Register this machine as a source server with an activation code.") { server, code, disk, name, force, rootDir };
register.SetAction((p, ct) => GuardAsync(() => RegisterCommand.RunAsync(
    p.GetValue(server)!, ActivationCode(p.GetValue(code)), p.GetValue(disk) ?? [], p.GetValue(name), p.GetValue(force), p.GetValue(config)!, console, ct, p.GetValue(rootDir))));

var run = new Command("run", "Run the agent: heartbeats, commands from the control plane, uploads.");
run.SetAction((p, ct) => GuardAsync(() => RunCommand.RunAsync(p.GetValue(config)!, Console.Out, ct)));

var install = new Command("install", "Install and start the systemd unit for 'smc-agent run'.") { unitDir, noStart };
install.SetAction(p => Guard(() => InstallCommand.Install(p.GetValue(config)!, p.GetValue(unitDir)!, !p.GetValue(noStart), console)));

var uninstall = new Command("uninstall", "Stop and remove the systemd unit.") { unitDir, noStart, purge };
uninstall.SetAction(p => Guard(() => InstallCommand.Uninstall(p.GetValue(config)!, p.GetValue(unitDir)!, !p.GetValue(noStart), p.GetValue(purge), console)));

var checkRoot = new Option<string?>("--root") { Description = "A root file system mounted elsewhere to check (default: this machine's /, or the root file system inside the --disk images)." };
var fix = new Option<bool>("--fix") { Description = "Apply the safe fixes (fstab and root= by UUID, virtio drivers in the initramfs), backing up every file changed." };
var check = new Command("check", "Pre-flight: will this server boot on the target? pass/warn/fail with the fix for each finding.") { checkRoot, disk, json, fix };
check.SetAction(p => Guard(() => CheckCommand.Run(p.GetValue(checkRoot), p.GetValue(disk) ?? [], p.GetValue(json), p.GetValue(fix), console, errors)));

var imageName = new Option<string?>("--image-name") { Description = "Name of the image the job makes." };
var systemDiskSize = new Option<int?>("--system-disk-size") { Description = "Destination system disk size in GiB (default: the source's)." };
var threads = new Option<int?>("--threads") { Description = "Parallel upload streams (1–64)." };
var bandwidth = new Option<int?>("--bandwidth-limit") { Description = "Upload limit in KB/s (0 = unlimited)." };
var compress = new Option<int?>("--compress-level") { Description = "zstd level 0 (off) – 22; default 1." };
// Job fields as kebab-case flags (docs/api.md): one value each, or repeatable for the list fields.
(string Field, Option<string?> Flag)[] jobText =
[
    ("imageProvider", new("--image-provider") { Description = "local (default) or alibaba." }),
    ("regionId", new("--region-id") { Description = "Alibaba region of the ECS image (imageProvider alibaba)." }),
    ("targetType", new("--target-type") { Description = "Image (default) or ContainerImage." }),
    ("containerRegistry", new("--container-registry") { Description = "Registry host[:port] a ContainerImage is pushed to." }),
    ("containerNamespace", new("--container-namespace") { Description = "ContainerImage namespace." }),
    ("containerRepository", new("--container-repository") { Description = "ContainerImage repository." }),
    ("containerTag", new("--container-tag") { Description = "ContainerImage tag (each round also gets {tag}-r{round})." }),
    ("workingDir", new("--working-dir") { Description = "ContainerImage working directory." }),
];
(string Field, Option<string[]> Flag)[] jobLists =
[
    ("entrypoint", new("--entrypoint") { Description = "ContainerImage entrypoint, one argument per flag (repeatable)." }),
    ("cmd", new("--cmd") { Description = "ContainerImage cmd, one argument per flag (repeatable)." }),
    ("env", new("--env") { Description = "ContainerImage environment NAME=value (repeatable)." }),
    ("exposedPorts", new("--exposed-port") { Description = "ContainerImage port, e.g. 8080 or 53/udp (repeatable)." }),
    ("excludePaths", new("--exclude-path") { Description = "ContainerImage: leave this path out of the capture (repeatable)." }),
    ("includePaths", new("--include-path") { Description = "ContainerImage: capture this path even on another mount (repeatable)." }),
];
var migrateForce = new Option<bool>("--force") { Description = "Migrate even when the pre-flight check finds a fail." };
var keepImages = new Option<int?>("--max-number-of-image-to-keep") { Description = "Images (rounds) kept, 1–10." };
var migrate = new Command("migrate", "One-shot migration: register, create the job, run it to the end, print the result.")
{
    server, code, disk, name, imageName, systemDiskSize, threads, bandwidth, compress, json, rootDir, keepImages, migrateForce,
};
foreach (var (_, flag) in jobText)
{
    migrate.Options.Add(flag);
}

foreach (var (_, flag) in jobLists)
{
    migrate.Options.Add(flag);
}

migrate.SetAction((p, ct) =>
{
    var fields = new System.Text.Json.Nodes.JsonObject();
    foreach (var (field, flag) in jobText)
    {
        if (p.GetValue(flag) is { } value)
        {
            fields[field] = value;
        }
    }

    foreach (var (field, flag) in jobLists)
    {
        if (p.GetValue(flag) is { Length: > 0 } values)
        {
            fields[field] = new System.Text.Json.Nodes.JsonArray([.. values.Select(v => (System.Text.Json.Nodes.JsonNode?)v)]);
        }
    }

    if (p.GetValue(keepImages) is int keep)
    {
        fields["maxNumberOfImageToKeep"] = keep;
    }

    return GuardAsync(() => MigrateCommand.RunAsync(
        p.GetValue(server)!, ActivationCode(p.GetValue(code)), p.GetValue(disk) ?? [],
        new MigrateOptions(p.GetValue(name), p.GetValue(imageName), p.GetValue(systemDiskSize), p.GetValue(threads), p.GetValue(bandwidth), p.GetValue(compress), p.GetValue(json), fields, p.GetValue(rootDir), p.GetValue(migrateForce)),
        p.GetValue(config)!, Console.Error, ct));
});

var benchFile = new Option<string>("--file") { Required = true };
var benchConnection = new Option<string>("--connection-string") { Required = true };
var benchPipeline = new Command("pipeline", "Pipeline throughput into a null sink.") { disk, compress };
benchPipeline.SetAction((p, ct) => GuardAsync(() => BenchmarkCommand.PipelineAsync(p.GetValue(disk) ?? [], p.GetValue(compress) ?? 1, ct)));
var benchUpload = new Command("upload", "Baseline: upload a whole file in 4 MiB blocks.") { benchFile, benchConnection, threads };
benchUpload.SetAction((p, ct) => GuardAsync(() => BenchmarkCommand.UploadAsync(p.GetValue(benchFile)!, p.GetValue(benchConnection)!, p.GetValue(threads) ?? 4, ct)));
var benchBefore = new Option<string>("--before") { Required = true };
var benchAfter = new Option<string>("--after") { Required = true };
var benchChunks = new Option<int[]>("--chunk-kib") { AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [64, 256, 1024] };
var benchChanges = new Command("changes", "Change detection at several chunk sizes between two images of one disk.") { benchBefore, benchAfter, benchChunks };
benchChanges.SetAction(p => BenchmarkCommand.Changes(p.GetValue(benchBefore)!, p.GetValue(benchAfter)!, p.GetValue(benchChunks)!));
var benchChunk = new Option<int>("--chunk-kib") { DefaultValueFactory = _ => 1024 };
var benchRounds = new Command("rounds", "A full round and an unchanged incremental round of one disk into counting sinks: memory and state sizes.") { disk, benchChunk };
benchRounds.SetAction((p, ct) => GuardAsync(() => BenchmarkCommand.RoundsAsync(p.GetValue(disk) ?? [], p.GetValue(benchChunk), ct)));
var benchmark = new Command("benchmark", "Figures for scripts/bench.sh.") { benchPipeline, benchUpload, benchChanges, benchRounds };
benchmark.Hidden = true;

// The freeze watchdog (Platform/Live/Freezer.cs): started by the agent itself before each freeze, never by hand.
var thawAfter = new Option<long>("--thaw-after-ms") { Required = true };
var thawMounts = new Argument<string[]>("mount") { Arity = ArgumentArity.OneOrMore };
var watchdog = new Command("watchdog", "Thaws file systems if the agent dies or overruns a freeze.") { thawAfter, thawMounts };
watchdog.Hidden = true;
watchdog.SetAction(p => Smc.Agent.Platform.Live.FreezeWatchdog.RunChild(TimeSpan.FromMilliseconds(p.GetValue(thawAfter)), p.GetValue(thawMounts)!, Console.Error));

var root = new RootCommand("smc-agent — moves this server's disks to SMC Serverless, block by block.") { config, inspect, check, register, run, migrate, install, uninstall, benchmark, watchdog };
// Everything the agent writes (configuration, journals, a container round's tar of the root file system) is its user's
// alone: files 0600 and directories 0700 whatever umask it was started with (StateDirectory).
if (!OperatingSystem.IsWindows())
{
    Smc.Agent.Platform.Live.LinuxNative.SetUmask(0b000_111_111);
}

ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        errors.MarkupLineInterpolated($"[red]error:[/] {error.Message}");
    }

    errors.WriteLine("Run 'smc-agent --help' for usage.");
    return ExitCodes.Usage;
}

return await parsed.InvokeAsync();

int Guard(Func<int> action)
{
    try
    {
        return action();
    }
    catch (AgentException e)
    {
        errors.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
        return e.ExitCode;
    }
}

async Task<int> GuardAsync(Func<Task<int>> action)
{
    try
    {
        return await action();
    }
    catch (AgentException e)
    {
        errors.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
        return e.ExitCode;
    }
    catch (ControlPlaneException e)
    {
        errors.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
        return e.IsTransient ? ExitCodes.Unreachable : ExitCodes.Refused;
    }
    catch (OperationCanceledException)
    {
        errors.WriteLine("Interrupted; run the same command again to continue.");
        return ExitCodes.Interrupted;
    }
}

// The activation code: --code, else SMC_ACTIVATION_CODE (what install.sh uses: a process's environment is its user's
// alone, its command line is anyone's). Called inside Guard, so a missing code is a usage error with exit code 2.
static string ActivationCode(string? flag) =>
    !string.IsNullOrWhiteSpace(flag) ? flag
    : Environment.GetEnvironmentVariable("SMC_ACTIVATION_CODE") is { Length: > 0 } fromEnvironment ? fromEnvironment.Trim()
    : throw new AgentException(ExitCodes.Usage, "An activation code is required: --code CODE, or SMC_ACTIVATION_CODE in the environment (not visible to other users in the process list).");
