namespace FcTrain.Packing;

/// <summary>
/// One packed training row as the tokenizer's shards store it: several conversations back to back.
/// <c>Labels</c> are aligned with <c>InputIds</c> (unshifted, -100 where not trained, as in transformers);
/// <c>PositionIds</c> restart at 0 for each conversation; <c>DocumentIds</c> number the conversations so
/// attention can be block-diagonal.
/// </summary>
public sealed record PackedRow(int[] InputIds, int[] Labels, int[] PositionIds, int[] DocumentIds);
