import ArgumentParser
import SCNMethod

/// The test-time views of each image whose outputs a command averages.
struct TestTimeViewOptions: ParsableArguments {
    @Flag(help: "Average each image's outputs (class probabilities, alpha) with its left-right mirror image's (twice the time).")
    var mirrorAverage = false
    @Flag(help: "Also average over copies shifted by 1/16 of the image size left, right, up and down (5 views; 10 with --mirror-average).")
    var shiftAverage = false

    var views: TestTimeViews { TestTimeViews(mirrors: mirrorAverage, shifts: shiftAverage) }
}
