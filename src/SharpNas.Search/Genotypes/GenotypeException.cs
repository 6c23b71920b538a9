namespace SharpNas.Search.Genotypes;

/// <summary>An architecture description that does not parse or validate; the message names the field.</summary>
public sealed class GenotypeException(string message) : Exception(message);
