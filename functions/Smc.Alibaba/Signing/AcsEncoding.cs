using System.Text;

namespace Smc.Alibaba.Signing;

/// <summary>
/// The percent-encoding every Alibaba signature uses (RFC 3986 over UTF-8): <c>A–Z a–z 0–9 - _ . ~</c> stay, every other
/// byte is <c>%XY</c> in upper-case hex — so a space is <c>%20</c> (never <c>+</c>), <c>*</c> is <c>%2A</c>, <c>~</c> stays.
/// </summary>
internal static class AcsEncoding
{
    public static string Percent(string value) => Percent(value, keepSlash: false);

    /// <param name="keepSlash">For paths (OSS object keys): <c>/</c> stays as it is.</param>
    public static string Percent(string value, bool keepSlash)
    {
        var result = new StringBuilder(value.Length * 2);
        foreach (byte b in Encoding.UTF8.GetBytes(value))
        {
            char c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~' || (keepSlash && c == '/'))
            {
                result.Append(c);
            }
            else
            {
                result.Append('%').Append(Hex[b >> 4]).Append(Hex[b & 0xF]);
            }
        }

        return result.ToString();
    }

    /// <summary>Lower-case hex, as the V3 and OSS V4 signatures write hashes and signatures.</summary>
    public static string LowerHex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    private const string Hex = "0123456789ABCDEF";
}
