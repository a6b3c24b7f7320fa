namespace Smc.Integration.Tests.Infrastructure;

/// <summary>
/// A test class's control plane: the one Azurite and smc-control the test process shares between classes whose
/// assertions are about the records they made themselves (<see cref="SharedControlPlane"/>), and a sandbox directory of
/// the class's own. A class that counts or scans everything in the store, holds a deadline against a busy host or
/// needs it alone takes <see cref="PrivateControlPlaneFixture"/> instead.
/// </summary>
public class ControlPlaneFixture : IAsyncLifetime
{
    private Azurite? _ownAzurite;
    private ControlPlane? _ownControl;

    internal Azurite Storage { get; private set; } = null!;

    internal ControlPlane Control { get; private set; } = null!;

    internal Sandbox Box { get; } = new();

    /// <summary>Whether this class starts an Azurite and smc-control of its own.</summary>
    protected virtual bool Private => false;

    private readonly SemaphoreSlim _sharedLock = new(1, 1);
    private (string Code, string SourceId, string Config)? _shared;

    /// <summary>One registered agent the tests of a class may share (code, source id, config path).</summary>
    internal async Task<(string Code, string SourceId, string Config)> SharedAgentAsync()
    {
        await _sharedLock.WaitAsync();
        try
        {
            if (_shared is null)
            {
                var (_, code) = await Flows.NewTokenAsync(Control.Operator());
                var (sourceId, config) = Flows.RegisterAgent(Control, Box, code, SampleDisks.Gpt(Box, "shared.img"));
                _shared = (code, sourceId, config);
            }

            return _shared.Value;
        }
        finally
        {
            _sharedLock.Release();
        }
    }

    public async Task InitializeAsync()
    {
        if (Private)
        {
            Storage = _ownAzurite = await Azurite.StartAsync();
            Control = _ownControl = await ControlPlane.StartAsync(_ownAzurite.ConnectionString);
        }
        else
        {
            (Storage, Control) = await SharedControlPlane.GetAsync();
        }
    }

    public Task DisposeAsync()
    {
        _ownControl?.Dispose();
        _ownAzurite?.Dispose();
        Box.Dispose();
        _sharedLock.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>An Azurite and smc-control of the class's own, stopped when the class ends.</summary>
public sealed class PrivateControlPlaneFixture : ControlPlaneFixture
{
    protected override bool Private => true;
}

/// <summary>
/// The Azurite and smc-control that <see cref="ControlPlaneFixture"/> classes share: started by the first class that
/// asks, stopped when the test process exits. Saves each of those classes a start (~3 s of CPU for the two processes, and
/// the host's first jobs compiling their code) and a second pair idling beside the others. Nothing a class does to it
/// may outlive its own records: no settings, no restarts.
/// </summary>
internal static class SharedControlPlane
{
    private static readonly Lazy<Task<(Azurite, ControlPlane)>> Started = new(StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    public static Task<(Azurite Storage, ControlPlane Control)> GetAsync() => Started.Value;

    private static async Task<(Azurite, ControlPlane)> StartAsync()
    {
        Azurite azurite = await Azurite.StartAsync();
        ControlPlane control;
        try
        {
            control = await ControlPlane.StartAsync(azurite.ConnectionString);
        }
        catch
        {
            azurite.Dispose();
            throw;
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            control.Dispose();
            azurite.Dispose();
        };
        return (azurite, control);
    }
}
