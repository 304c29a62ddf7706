using FcTrain.Data;

namespace FcTrain.Interop;

/// <summary>
/// A record converted to fctrain's model, before the dataset rules are checked: its own id (null: none, the
/// importer hashes its content), the functions it lists (in its order) and its messages.
/// </summary>
public sealed record ImportedRecord(string? Id, IReadOnlyList<FunctionDefinition> Functions, IReadOnlyList<Message> Messages);
