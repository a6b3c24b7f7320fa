using System.Text.Json;

namespace Smc.Agent;

/// <summary>
/// The agent's state on the source: which control plane, which source id, and its credential.
/// Written atomically with mode 0600 (it holds a secret); default <c>/etc/smc-agent/agent.json</c>.
/// </summary>
internal sealed class AgentConfig
{
    public const string DefaultPath = "/etc/smc-agent/agent.json";

    public required string Server { get; init; }

    public required string SourceId { get; init; }

    public required string Credential { get; init; }

    public int HeartbeatRate { get; set; } = 30;

    /// <summary>Disks given at registration (<c>--disk</c>); empty means discover them.</summary>
    public List<string> Disks { get; init; } = [];

    /// <summary>The root file system a container round captures (<c>--root</c> at registration); null = <c>/</c>.</summary>
    public string? Root { get; init; }

    /// <summary>The idempotency token of an unfinished one-shot migrate, so a re-run resumes the same job.</summary>
    public string? MigrateClientToken { get; set; }

    public static AgentConfig? Load(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<AgentConfig>(File.ReadAllText(path), AgentJson.Options)
                ?? throw new AgentException(ExitCodes.NotRegistered, $"{path} is empty; register again with smc-agent register.");
        }
        catch (JsonException e)
        {
            throw new AgentException(ExitCodes.NotRegistered, $"{path} is not a valid agent config ({e.Message}); register again with smc-agent register --force.");
        }
    }

    public static AgentConfig LoadRequired(string path) =>
        Load(path) ?? throw new AgentException(ExitCodes.NotRegistered, $"Not registered: {path} does not exist. Run smc-agent register --server URL --code CODE first.");

    public void Save(string path)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        try
        {
            Directory.CreateDirectory(dir);
            string tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(tmp, options))
            {
                JsonSerializer.Serialize(stream, this, AgentJson.Options);
                stream.Flush(flushToDisk: true);
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            File.Move(tmp, full, overwrite: true);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new AgentException(ExitCodes.NeedsRoot, $"Can't write {full}: {e.Message}. Run as root, or pass --config with a writable path.", e);
        }
    }
}
