namespace FcTrain.Lora;

/// <summary>The shape of a LoRA adapter (PEFT's LoraConfig fields that change the math).</summary>
public sealed record LoraConfig(
    int Rank,                              // r: rank of the update B·A
    double Alpha,                          // lora_alpha: the update is scaled by alpha/r
    double Dropout,                        // lora_dropout: on the adapter's input only
    IReadOnlyList<string> TargetModules,   // module names (last path segment) that get an adapter
    bool UseRsLora = false)                // rank-stabilised scaling alpha/sqrt(r) (Kalajdzievski 2023)
{
    public double Scaling => UseRsLora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;

    public bool Targets(string moduleName) => TargetModules.Contains(moduleName);
}
