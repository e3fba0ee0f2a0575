"""Keras layers (`keras.layers`): one module per family; the math lives in baeum.reference."""
from baeum.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, RReLU, Softmax
from baeum.layers.base import Layer, Variable
from baeum.layers.merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add,
                                  average, concatenate, dot, maximum, minimum, multiply, subtract)
from baeum.layers.conv import Conv1D, Conv2D, Conv2DTranspose, Convolution1D, Convolution2D, Convolution2DTranspose, DepthwiseConv2D
from baeum.layers.core import Activation, Dense, Dropout, Flatten, Input, InputLayer, KerasTensor, Reshape
from baeum.layers.recurrent import GRU, LSTM, SimpleRNN
from baeum.layers.sequence import Bidirectional, Embedding, Masking, RepeatVector, TimeDistributed
from baeum.layers.preprocessing import (Normalization, RandomBrightness, RandomContrast, RandomCrop, RandomFlip,
                                       RandomRotation, RandomTranslation, RandomZoom, Rescaling)
from baeum.layers.pooling import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
                                    GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D)
from baeum.layers.normalization import BatchNormalization, LayerNormalization
from baeum.layers.reshaping import Cropping2D, UpSampling2D, ZeroPadding2D
from baeum.layers.regularization import SpatialDropout2D

__all__ = [
    "Layer", "Variable", "Input", "InputLayer", "KerasTensor", "Dense", "Activation", "Dropout",
    "Flatten", "Reshape", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "RReLU",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
    "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot",
    "Conv1D", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D",
    "SimpleRNN", "LSTM", "GRU",
    "Embedding", "Masking", "RepeatVector", "TimeDistributed", "Bidirectional",
    "Rescaling", "Normalization", "RandomFlip", "RandomTranslation", "RandomRotation", "RandomZoom",
    "RandomCrop", "RandomContrast", "RandomBrightness",
    "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "BatchNormalization", "LayerNormalization", "UpSampling2D", "ZeroPadding2D", "Cropping2D", "SpatialDropout2D",
]
