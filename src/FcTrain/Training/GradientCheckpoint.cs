using TorchSharp;
using static TorchSharp.torch;

namespace FcTrain.Training;

/// <summary>
/// Activation checkpointing (what <c>torch.utils.checkpoint</c> does; TorchSharp has none): the forward pass
/// of a block keeps only its input; backward runs the block again with autograd on and differentiates that.
/// Memory drops from every intermediate activation of every layer to one (B, T, C) tensor per layer,
/// at the price of a second forward.
/// </summary>
public static class GradientCheckpoint
{
    /// <summary>
    /// <c>block(input)</c>, recomputed in backward. <paramref name="trainable"/> lists the parameters inside
    /// the block that need gradients (the LoRA matrices): with a frozen base the input itself may not require
    /// grad, and a custom autograd node only reaches tensors passed to it directly, so they go in explicitly.
    /// </summary>
    public static Tensor Run(Func<Tensor, Tensor> block, Tensor input, IReadOnlyList<Tensor> trainable)
    {
        var args = new object[2 + trainable.Count];
        args[0] = block;
        args[1] = input;
        for (int i = 0; i < trainable.Count; i++) args[2 + i] = trainable[i];
        return Recompute.apply(args);
    }

    sealed class Recompute : autograd.SingleTensorFunction<Recompute>
    {
        public override string Name => "GradientCheckpoint";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] args)
        {
            var input = (Tensor)args[1];
            ctx.save_data("block", args[0]);
            ctx.save_data("trainable", args.Skip(2).Cast<Tensor>().ToArray());
            // Dropout inside the block must draw the same masks when it runs again in backward:
            // keep the generator state as bytes (a saved tensor would be freed with the step's scope).
            ctx.save_data("rng", RngBytes());
            ctx.save_for_backward([input]);
            // apply() runs this under no_grad, so autograd keeps nothing; the scope frees the block's
            // intermediates now instead of at the end of the step (TorchSharp tensors live until their scope ends).
            using var scope = NewDisposeScope();
            return ((Func<Tensor, Tensor>)args[0])(input).MoveToOuterDisposeScope();
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            var block = (Func<Tensor, Tensor>)ctx.get_data("block");
            var trainable = (Tensor[])ctx.get_data("trainable");
            var saved = ctx.get_saved_variables()[0];

            byte[] current = RngBytes();
            SetRng((byte[])ctx.get_data("rng"));
            var grads = new List<Tensor?> { null }; // no gradient for the block delegate
            using (var scope = NewDisposeScope())
            using (enable_grad())
            {
                var input = saved.detach().requires_grad_(saved.requires_grad);
                var output = block(input);
                var wrt = new List<Tensor>();
                if (input.requires_grad) wrt.Add(input);
                wrt.AddRange(trainable);
                var computed = autograd.grad([output], wrt, [gradOutput], allow_unused: true);
                int k = 0;
                grads.Add(input.requires_grad ? computed[k++] : null);
                for (int i = 0; i < trainable.Length; i++) grads.Add(computed[k++]);
                foreach (var g in grads) g?.MoveToOuterDisposeScope();
            }
            SetRng(current);
            return grads!;
        }

        static byte[] RngBytes()
        {
            using var state = random.get_rng_state();
            return state.data<byte>().ToArray();
        }

        static void SetRng(byte[] bytes)
        {
            using var state = tensor(bytes, dtype: ScalarType.Byte);
            random.set_rng_state(state);
        }
    }
}
