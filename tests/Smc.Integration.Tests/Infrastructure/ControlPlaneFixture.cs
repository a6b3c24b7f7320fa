namespace Smc.Integration.Tests.Infrastructure;

/// <summary>One Azurite and one smc-control for a test class.</summary>
public sealed class ControlPlaneFixture : IAsyncLifetime
{
    private Azurite? _azurite;
    private ControlPlane? _control;

    internal Azurite Storage => _azurite!;

    internal ControlPlane Control => _control!;

    internal Sandbox Box { get; } = new();

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
        _azurite = await Azurite.StartAsync();
        _control = await ControlPlane.StartAsync(_azurite.ConnectionString);
    }

    public Task DisposeAsync()
    {
        _control?.Dispose();
        _azurite?.Dispose();
        Box.Dispose();
        _sharedLock.Dispose();
        return Task.CompletedTask;
    }
}
