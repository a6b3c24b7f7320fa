namespace Smc.Core.Ports;

public sealed record AgentPackageInfo(string Runtime, long SizeBytes, string Sha256, DateTimeOffset UploadedAt);
