using System.Security.Cryptography;

namespace Smc.Core.Security;

/// <summary>Resource ids as users see them: a kind prefix and 16 random base-32 characters (<c>j-…</c>, <c>s-…</c>).</summary>
public static class Ids
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";
    private static readonly System.Buffers.SearchValues<char> AlphabetValues = System.Buffers.SearchValues.Create(Alphabet);

    public const string AccessTokenPrefix = "at";
    public const string SourcePrefix = "s";
    public const string JobPrefix = "j";
    public const string ImagePrefix = "m";
    public const string TemplatePrefix = "jt";
    public const string WavePrefix = "wv";

    public static string New(string prefix)
    {
        Span<byte> random = stackalloc byte[16];
        RandomNumberGenerator.Fill(random);
        Span<char> chars = stackalloc char[16];
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = Alphabet[random[i] & 31];
        }

        return $"{prefix}-{chars}";
    }

    /// <summary>True when <paramref name="id"/> looks like an id of this kind (so garbage never reaches storage queries).</summary>
    public static bool IsWellFormed(string? id, string prefix) =>
        id is not null
        && id.Length == prefix.Length + 17
        && id.StartsWith(prefix + "-", StringComparison.Ordinal)
        && id.AsSpan(prefix.Length + 1).IndexOfAnyExcept(AlphabetValues) < 0;
}
