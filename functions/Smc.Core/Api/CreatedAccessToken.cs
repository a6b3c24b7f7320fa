namespace Smc.Core.Api;

/// <summary>The answer to a token creation: the only time the activation code is shown.</summary>
public sealed record CreatedAccessToken(string AccessTokenId, string AccessTokenCode);
