namespace Smc.Core.Ports;

/// <summary>A record as read from a store, with the ETag that guards its next update.</summary>
public sealed record Stored<T>(string Id, T Value, string ETag)
    where T : class;
