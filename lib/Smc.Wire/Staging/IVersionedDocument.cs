namespace Smc.Wire.Staging;

/// <summary>A staging document that carries a <c>formatVersion</c>, checked by <see cref="StagingJson.Deserialize{T}"/>.</summary>
internal interface IVersionedDocument
{
    int FormatVersion { get; }
}
