namespace FcTrain.Settings;

/// <summary>
/// Every setting of fctrain, each with its one default: the Hugging Face agents course's values
/// (bonus unit 1: TRL SFTConfig + PEFT LoraConfig on google/gemma-2-2b-it).
/// Precedence: these defaults &lt; <c>fctrain.json</c> &lt; command-line flags and MSBuild properties.
/// <see cref="SettingsTable"/> maps each property onto its <c>fctrain.json</c> key, flag and MSBuild property;
/// <see cref="SettingsReader"/> is the one reader.
/// </summary>
public sealed record FcTrainSettings
{
    // ---- what to train ----
    /// <summary>Base model: <c>tiny</c> (embedded), a Hugging Face model folder, or a Hub id such as <c>google/gemma-2-2b-it</c>.</summary>
    public string Model { get; init; } = "tiny";
    /// <summary>Folder of the tokenized, packed shards (<c>manifest.json</c> + safetensors) written by <c>fctrain tokenize</c>.</summary>
    public string Shards { get; init; } = "obj/fctrain/shards";
    /// <summary>Output root: the adapter goes to <c>{Output}/adapter/</c>, each run to <c>{Output}/runs/{run-id}/</c>.</summary>
    public string Output { get; init; } = "artifacts/fctrain";
    /// <summary><c>auto</c> (CUDA when available, else CPU), <c>cpu</c> or <c>cuda</c>: where every command runs the model.</summary>
    public string Device { get; init; } = "auto";
    /// <summary><c>auto</c> (bfloat16 on CUDA as the course's bf16=True, float32 on CPU), <c>float32</c> or <c>bfloat16</c>.</summary>
    public string Dtype { get; init; } = "auto";

    // ---- optimisation (SFTConfig of the course) ----
    /// <summary>Passes over the train split (course: num_train_epochs=1).</summary>
    public int Epochs { get; init; } = 1;
    /// <summary>Stop after this many optimizer steps, whatever the epochs say (null: no limit).</summary>
    public int? MaxSteps { get; init; }
    /// <summary>Peak learning rate of AdamW (course: 1e-4).</summary>
    public double LearningRate { get; init; } = 1e-4;
    /// <summary>Decoupled AdamW weight decay (course: 0.1).</summary>
    public double WeightDecay { get; init; } = 0.1;
    /// <summary>AdamW betas and epsilon (transformers' defaults).</summary>
    public double AdamBeta1 { get; init; } = 0.9;
    public double AdamBeta2 { get; init; } = 0.999;
    public double AdamEpsilon { get; init; } = 1e-8;
    /// <summary>Fraction of the optimizer steps spent warming up linearly before the cosine decay (course: 0.1).</summary>
    public double WarmupRatio { get; init; } = 0.1;
    /// <summary>Packed rows per micro-batch (course: per_device_train_batch_size=1).</summary>
    public int BatchSize { get; init; } = 1;
    /// <summary>Micro-batches whose gradients add up to one optimizer step (course: 4).</summary>
    public int GradientAccumulationSteps { get; init; } = 4;
    /// <summary>Clip the global gradient norm to this value (course: max_grad_norm=1.0; 0 disables).</summary>
    public double MaxGradNorm { get; init; } = 1.0;
    /// <summary>Longest packed row accepted, in tokens (course: max_seq_length=1500; packing happens at tokenize time).</summary>
    public int MaxSeqLength { get; init; } = 1500;

    // ---- LoRA (PEFT LoraConfig of the course) ----
    public LoraSettings Lora { get; init; } = new();
    /// <summary>
    /// A PEFT adapter folder (<c>adapter_config.json</c> + <c>adapter_model.safetensors</c>) to start training from
    /// instead of a freshly initialised adapter (null: fresh). Its <c>adapter_config.json</c> defines the LoRA shape
    /// (r, lora_alpha, target_modules, use_rslora), replacing those of <see cref="Lora"/>; <see cref="LoraSettings.Dropout"/>
    /// stays a training setting. Its tensors must fit the base model (FCT0212 names the first that does not).
    /// </summary>
    public string? InitAdapter { get; init; }

    // ---- runtime ----
    /// <summary>Seed of initialisation, dropout and data order (TRL's default 42).</summary>
    public int Seed { get; init; } = 42;
    /// <summary>Recompute each decoder layer in backward instead of keeping its activations (course: true).</summary>
    public bool GradientCheckpointing { get; init; } = true;
    /// <summary>Log a line every N optimizer steps (course: logging_steps=5).</summary>
    public int LoggingSteps { get; init; } = 5;
    /// <summary>Write a resumable checkpoint every N optimizer steps (0: only at the end and on interruption).</summary>
    public int SaveSteps { get; init; } = 50;
    /// <summary>Compute the loss on the eval split after each epoch (course: eval_strategy="epoch").</summary>
    public bool EvalEachEpoch { get; init; } = true;
    /// <summary>Continue the latest run under <see cref="Output"/> from its last checkpoint (a flag of <c>train</c>, not a setting).</summary>
    public bool Resume { get; init; }

    // ---- evaluation and generation ----
    /// <summary>
    /// Generation stops at <c>&lt;end_of_turn&gt;</c>/<c>&lt;eos&gt;</c> or after this many tokens, in <c>eval</c>,
    /// <c>snapshot</c>, <c>generate</c> and the pipeline alike, so a snapshot accepted by hand is the one the build
    /// compares against. 128 covers a thinking line and a few calls (gold turns of the samples are under 100).
    /// </summary>
    public int MaxNewTokens { get; init; } = 128;
    /// <summary>
    /// Cases <c>eval</c> and <c>snapshot</c> generate at once (batched greedy decoding; the outputs equal one at a time).
    /// Each decoding step reads the head's weights once for the whole batch, so larger batches are faster until the
    /// prefill's activations, which grow with batch × prompt length, fill the memory.
    /// </summary>
    public int EvalBatchSize { get; init; } = 64;

    /// <summary>
    /// These options with <see cref="Lora"/>'s shape read from <see cref="InitAdapter"/>'s <c>adapter_config.json</c>
    /// when it is set, so that the log, <c>run.json</c> and the saved adapter state the shape actually trained.
    /// </summary>
    public FcTrainSettings WithInitAdapterShape() =>
        InitAdapter is null ? this : this with { Lora = Lora.WithShapeOf(FcTrain.Lora.PeftAdapter.ReadConfig(InitAdapter).Config) };
}

/// <summary>The LoRA adapter's shape (course: r=16, lora_alpha=64, lora_dropout=0.05, all linear layers + embeddings + head).</summary>
public sealed record LoraSettings
{
    /// <summary>Rank of the update B·A.</summary>
    public int Rank { get; init; } = 16;
    /// <summary>Scale numerator: the update is multiplied by alpha/r (alpha/sqrt(r) with rsLoRA).</summary>
    public double Alpha { get; init; } = 64;
    /// <summary>Dropout on the adapter's input (not on the frozen path).</summary>
    public double Dropout { get; init; } = 0.05;
    /// <summary>Module names (last path segment) that get an adapter.</summary>
    public IReadOnlyList<string> TargetModules { get; init; } =
        ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "embed_tokens", "lm_head"];
    /// <summary>Rank-stabilised scaling alpha/sqrt(r) (Kalajdzievski 2023) instead of alpha/r.</summary>
    public bool UseRsLora { get; init; }

    public Lora.LoraConfig ToConfig() => new(Rank, Alpha, Dropout, TargetModules, UseRsLora);

    /// <summary>These settings with the shape (rank, alpha, target modules, rsLoRA) of an existing adapter; the dropout stays.</summary>
    public LoraSettings WithShapeOf(Lora.LoraConfig adapter) =>
        this with { Rank = adapter.Rank, Alpha = adapter.Alpha, TargetModules = adapter.TargetModules, UseRsLora = adapter.UseRsLora };
}
